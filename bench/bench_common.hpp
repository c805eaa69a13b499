// Small helpers shared by the benchmark programs: a monotonic clock, a way to keep the compiler
// from deleting work whose result is unused, and readers for the process's memory counters.
#pragma once

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace bench {

// Nanoseconds on the monotonic clock. clock_gettime through the vDSO costs about 20 ns, which is
// noise against the millions of operations each timed loop runs.
inline std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Tells the compiler that `value` is observed, so the loop that produced it must really run.
template <class T>
inline void keep(const T& value) {
    asm volatile("" : : "r,m"(value) : "memory");
}

// The results of one measurement repeated: the best is the estimate of what the code costs (noise
// only ever adds time), and the median shows how noisy the machine was.
struct samples {
    std::vector<double> values;

    void add(double value) { values.push_back(value); }
    double best() const { return *std::min_element(values.begin(), values.end()); }
    double median() const {
        std::vector<double> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        return sorted[sorted.size() / 2];
    }
};

// Resident set size in bytes, from /proc/self/statm (its second field counts resident pages).
inline std::size_t rss_bytes() {
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (f == nullptr) return 0;
    unsigned long size = 0, resident = 0;
    int got = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    if (got != 2) return 0;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// One "Name:   value kB" line of /proc/self/status, in bytes (VmPTE: the page tables, which the
// kernel does not count in the RSS but which the process costs all the same).
inline std::size_t status_kib_field_bytes(const char* name) {
    std::ifstream in("/proc/self/status");
    std::string line;
    std::size_t length = std::strlen(name);
    while (std::getline(in, line)) {
        if (line.compare(0, length, name) == 0 && line.size() > length && line[length] == ':') {
            return std::stoull(line.substr(length + 1)) * 1024;
        }
    }
    return 0;
}

// The number of kernel VMAs (memory mappings): one line each in /proc/self/maps.
inline std::size_t mapping_count() {
    std::ifstream in("/proc/self/maps");
    std::string line;
    std::size_t lines = 0;
    while (std::getline(in, line)) ++lines;
    return lines;
}

}  // namespace bench
