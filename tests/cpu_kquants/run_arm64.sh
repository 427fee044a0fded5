#!/bin/sh
# Builds and runs test_cpu_kquants for arm64 under qemu (no arm64 GoogleTest package exists here, so
# GoogleTest is compiled from /usr/src/googletest into the cross build directory).
# Usage: tests/cpu_kquants/run_arm64.sh [build dir, default build-arm-kq]
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-arm-kq}
gt=/usr/src/googletest/googletest
cxx=aarch64-linux-gnu-g++
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/aarch64-linux-gnu.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DROCMFORGE_BUILD_TESTS=OFF -DROCMFORGE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j2 --target rocmforge_core
mkdir -p "$build/gtest"
[ -f "$build/gtest/gtest-all.o" ] || $cxx -std=c++20 -O2 -I$gt/include -I$gt -c $gt/src/gtest-all.cc -o "$build/gtest/gtest-all.o"
[ -f "$build/gtest/gtest_main.o" ] || $cxx -std=c++20 -O2 -I$gt/include -c $gt/src/gtest_main.cc -o "$build/gtest/gtest_main.o"
$cxx -std=c++20 -O2 -I"$root/src" -I$gt/include "$root/tests/cpu_kquants/kquants_test.cc" \
  "$build/gtest/gtest-all.o" "$build/gtest/gtest_main.o" "$build/librocmforge_core.a" -lpthread \
  -o "$build/test_cpu_kquants"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/test_cpu_kquants"
