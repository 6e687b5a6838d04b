%% bench/local_erl.erl - the Erlang side of the "local" benchmark suite:
%% the same measurements as bench/local.c between processes of one node.
%% bench_local loads it (compile:file in memory) under `erl -noshell` and
%% parses the lines it prints: "erl <name> <value>".
-module(local_erl).
-export([main/1]).

main([N, Rtt, Spawn, Runs]) ->
    report(throughput, median([throughput(N) || _ <- lists:seq(1, Runs)])),
    report(rtt, median([rtt(Rtt) || _ <- lists:seq(1, Runs)])),
    {SpawnNs, MemB} = spawn_idle(Spawn),
    report(spawn_ns, SpawnNs),
    report(idle_bytes, MemB),
    halt().

report(Name, V) ->
    io:format("erl ~s ~.3f~n", [Name, float(V)]).

median(L) ->
    S = lists:sort(L),
    lists:nth((length(S) + 1) div 2, S).

now_ns() -> erlang:monotonic_time(nanosecond).

%% Messages per second from one process to another ({msg, I} each).
throughput(N) ->
    Self = self(),
    R = spawn_link(fun() -> sink(N), Self ! done end),
    T0 = now_ns(),
    send_n(R, N),
    receive done -> ok end,
    N / ((now_ns() - T0) / 1.0e9).

send_n(_, 0) -> ok;
send_n(P, I) -> P ! {msg, I}, send_n(P, I - 1).

sink(0) -> ok;
sink(N) -> receive {msg, _} -> sink(N - 1) end.

%% Mean round trip in ns of ping-pong between two processes.
rtt(N) ->
    P = spawn_link(fun pong/0),
    T0 = now_ns(),
    ping(P, N),
    Dt = now_ns() - T0,
    P ! stop,
    Dt / N.

ping(_, 0) -> ok;
ping(P, N) ->
    P ! {ping, self()},
    receive pong -> ping(P, N - 1) end.

pong() ->
    receive
        {ping, From} -> From ! pong, pong();
        stop -> ok
    end.

%% Time per spawn of an idle process and the memory each one holds.
spawn_idle(N) ->
    erlang:garbage_collect(),
    M0 = erlang:memory(total),
    T0 = now_ns(),
    Ps = spawn_n(N, []),
    Dt = now_ns() - T0,
    %% let every process run once and block in receive
    Ref = make_ref(), Self = self(),
    lists:last(Ps) ! {sync, Self, Ref},
    receive Ref -> ok end,
    M1 = erlang:memory(total),
    [P ! stop || P <- Ps],
    {Dt / N, (M1 - M0) / N}.

spawn_n(0, Acc) -> Acc;
spawn_n(N, Acc) -> spawn_n(N - 1, [spawn(fun idle/0) | Acc]).

idle() ->
    receive
        {sync, From, Ref} -> From ! Ref, idle();
        stop -> ok
    end.
