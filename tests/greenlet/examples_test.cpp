// The seed's examples 1 and 2 print exactly what the Python versions print, byte for byte
// (ANSI colour escapes included).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string run(const std::string& program) {
    std::string output;
    FILE* pipe = popen((std::string(COGENT_EXAMPLES_DIR) + "/" + program).c_str(), "r");
    if (pipe == nullptr) return "<cannot run " + program + ">";
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
    int status = pclose(pipe);
    if (status != 0) output += "<exit status " + std::to_string(status) + ">";
    return output;
}

std::string expected(const std::string& name) {
    std::ifstream file(std::string(COGENT_EXPECTED_DIR) + "/" + name + ".stdout", std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

TEST(SeedExamples, GreenletSwitchPrintsWhatPythonPrints) {
    std::string want = expected("greenlet_switch");
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(run("greenlet_switch"), want);
}

TEST(SeedExamples, BaoziPrintsWhatPythonPrints) {
    std::string want = expected("baozi");
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(run("baozi"), want);
}

}  // namespace
