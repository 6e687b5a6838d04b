# src/sched on aarch64: cross-compiled and run under qemu-user when the
# Debian packages gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user
# are installed (scripts/install-deps.sh).  On an aarch64 host the unit
# tests already run natively.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
	find_program(STRAW_AARCH64_CC aarch64-linux-gnu-gcc)
	find_program(STRAW_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
	if(STRAW_AARCH64_CC AND STRAW_QEMU_AARCH64)
		add_test(NAME sched_aarch64_qemu
			COMMAND ${PROJECT_SOURCE_DIR}/tests/sched_aarch64.sh
				${PROJECT_SOURCE_DIR}
				${CMAKE_CURRENT_BINARY_DIR}/sched-aarch64
				${STRAW_AARCH64_CC} ${STRAW_QEMU_AARCH64})
		set_tests_properties(sched_aarch64_qemu PROPERTIES TIMEOUT 300)
	else()
		message(STATUS "sched: no aarch64-linux-gnu-gcc/qemu-aarch64, "
			"the aarch64 context switch is not tested")
	endif()
endif()
