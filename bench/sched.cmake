# Suite "sched": context switch, yield, park/wake, spawn, timers, remote
# wakes, memory per idle coroutine.
straw_bench(sched sched.c LIBS Threads::Threads)
