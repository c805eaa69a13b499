// The LD_PRELOAD form: libcogent_hooks.so finds the core in an executable that links cogent
// (with its symbols exported) but not the hooks, and makes its blocking calls cooperative;
// without the preload, that program's patch_all() refuses, saying why.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace {

// Under AddressSanitizer the preloaded library is instrumented too, and the sanitizer's runtime
// must come first in the list of preloaded libraries: this finds the one this process uses.
std::string sanitizer_runtime() {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::size_t at = line.find('/');
        if (at != std::string::npos && line.find("libasan.so") != std::string::npos) return line.substr(at);
    }
    return {};
}

// The environment that preloads the hooks (and, in a sanitized build, the sanitizer first, with
// leak checks off for programs that are not ours).
std::string preload() {
    std::string runtime = sanitizer_runtime();
    if (runtime.empty()) return "LD_PRELOAD=" COGENT_PRELOAD_LIBRARY;
    return "ASAN_OPTIONS=detect_leaks=0 LD_PRELOAD=" + runtime + ":" COGENT_PRELOAD_LIBRARY;
}

struct outcome {
    int status = -1;
    std::string output;
};

outcome run_probe(const std::string& environment) {
    outcome result;
    std::string command = environment + " " COGENT_PRELOAD_PROBE " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) result.output += buffer;
    int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

TEST(Preload, TheSharedHooksMakeAProgramWithoutThemCooperative) {
    outcome with = run_probe(preload());
    EXPECT_EQ(with.status, 0) << with.output;
    EXPECT_NE(with.output.find("20 x usleep"), std::string::npos) << with.output;
}

TEST(Preload, WithoutThemPatchAllRefusesAndSaysWhy) {
    outcome without = run_probe("env -u LD_PRELOAD");
    EXPECT_EQ(without.status, 3) << without.output;
    EXPECT_NE(without.output.find("LD_PRELOAD"), std::string::npos) << without.output;
}

TEST(Preload, AProgramWithoutCogentRunsUnchangedUnderThePreload) {
    // The shared hooks find no core in /bin/sh and pass every call through.
    outcome plain = run_probe(preload() + " sh -c 'sleep 0; echo plain' #");
    EXPECT_EQ(plain.output, "plain\n");
}

}  // namespace
