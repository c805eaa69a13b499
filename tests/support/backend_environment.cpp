// Linked into every suite that runs once per I/O backend. Before any test, it checks that the
// backend named by COGENT_BACKEND can be made on this machine. io_uring may be refused by the
// kernel or a seccomp filter (that refusal is itself tested, in backend_test.cpp): the whole
// io_uring share of the suite is then skipped, saying why, rather than failing. Any other
// backend failing to start is a real failure.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "backend/backend.hpp"
#include "cogent/errors.hpp"

namespace {

class backend_environment : public ::testing::Environment {
public:
    void SetUp() override {
        const char* name = std::getenv("COGENT_BACKEND");
        if (name == nullptr || *name == '\0') return;
        std::optional<cogent::backend_kind> kind = cogent::parse_backend(name);
        ASSERT_TRUE(kind.has_value()) << "COGENT_BACKEND=" << name << " names no backend";
        std::string refusal;
        try {
            cogent::detail::make_backend(*kind);
        } catch (const cogent::backend_error& e) {
            refusal = e.what();
        }
        if (refusal.empty()) return;
        if (*kind == cogent::backend_kind::io_uring) GTEST_SKIP() << "io_uring is unavailable here: " << refusal;
        FAIL() << "backend " << name << " cannot start: " << refusal;
    }
};

const auto* registered = ::testing::AddGlobalTestEnvironment(new backend_environment);

}  // namespace
