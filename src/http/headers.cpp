// http::headers: fields in arrival order, names compared without regard to ASCII case.
#include <algorithm>

#include "cogent/http.hpp"

namespace cogent::http {
namespace {

bool same_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace

void headers::set(std::string_view name, std::string value) {
    erase(name);
    fields_.push_back({std::string(name), std::move(value)});
}

void headers::erase(std::string_view name) noexcept {
    std::erase_if(fields_, [name](const field& f) { return same_name(f.name, name); });
}

std::optional<std::string_view> headers::get(std::string_view name) const noexcept {
    for (const field& f : fields_) {
        if (same_name(f.name, name)) return std::string_view(f.value);
    }
    return std::nullopt;
}

std::vector<std::string_view> headers::get_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const field& f : fields_) {
        if (same_name(f.name, name)) values.emplace_back(f.value);
    }
    return values;
}

}  // namespace cogent::http
