// Linked into net_tests_hooked: cogent's own net suite run with the hooks linked and patching on
// for every test. cogent makes its sockets non-blocking, so the hooks must pass every one of its
// calls straight through; any test that fails here and not in net_tests is a hooks bug.
#include <gtest/gtest.h>

#include "cogent/monkey.hpp"

namespace {

class patched_environment : public ::testing::Environment {
public:
    void SetUp() override { cogent::monkey::patch_all(); }
    void TearDown() override { cogent::monkey::unpatch_all(); }
};

const auto* registered = ::testing::AddGlobalTestEnvironment(new patched_environment);

}  // namespace
