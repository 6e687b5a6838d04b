# The tube suite: tubes against pipe, Unix seqpacket, TCP, ZeroMQ and nng.
pkg_check_modules(TUBE_ZMQ REQUIRED IMPORTED_TARGET libzmq)
find_library(TUBE_NNG_LIB nng REQUIRED)
straw_bench(tube tube.c LIBS PkgConfig::TUBE_ZMQ ${TUBE_NNG_LIB})
