// Making the test PKI: keys, certificates with the extensions a verifier checks, PEM files.
#include "net/test_certificates.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace cogent_test {
namespace {

using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using certificate_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

void check(bool ok, const char* what) {
    if (ok) return;
    char reason[256] = "no reason given";
    if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
    ERR_clear_error();
    throw std::runtime_error(std::string("test certificates: ") + what + ": " + reason);
}

key_ptr make_key() {
    key_ptr key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    check(key != nullptr, "EVP_EC_gen");
    return key;
}

void add_extension(X509* certificate, X509* issuer, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    check(extension != nullptr, value);
    const int added = X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
    check(added == 1, "X509_add_ext");
}

struct certificate_spec {
    const char* common_name;
    bool ca = false;
    const char* subject_alt_name = nullptr;
    const char* extended_key_usage = nullptr;
};

// A certificate for `key`, valid from an hour ago for a day, signed by `issuer` (self-signed
// when it is null).
certificate_ptr make_certificate(const certificate_spec& spec, EVP_PKEY* key, X509* issuer,
                                 EVP_PKEY* issuer_key) {
    static long serial = 1;
    certificate_ptr certificate(X509_new(), &X509_free);
    X509* c = certificate.get();
    check(c != nullptr && X509_set_version(c, X509_VERSION_3) == 1, "X509_new");
    check(ASN1_INTEGER_set(X509_get_serialNumber(c), serial++) == 1, "serial number");
    check(X509_gmtime_adj(X509_getm_notBefore(c), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600) != nullptr, "notAfter");
    check(X509_set_pubkey(c, key) == 1, "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(c);
    auto add_name = [&](const char* field, const char* text) {
        check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                                         reinterpret_cast<const unsigned char*>(text), -1, -1, 0) == 1,
              field);
    };
    add_name("O", "cogent tests");
    add_name("CN", spec.common_name);
    X509* signer = issuer != nullptr ? issuer : c;
    check(X509_set_issuer_name(c, X509_get_subject_name(signer)) == 1, "X509_set_issuer_name");
    add_extension(c, signer, NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(c, signer, NID_key_usage,
                  spec.ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_extension(c, signer, NID_subject_key_identifier, "hash");
    if (issuer != nullptr) add_extension(c, signer, NID_authority_key_identifier, "keyid:always");
    if (spec.subject_alt_name != nullptr)
        add_extension(c, signer, NID_subject_alt_name, spec.subject_alt_name);
    if (spec.extended_key_usage != nullptr)
        add_extension(c, signer, NID_ext_key_usage, spec.extended_key_usage);
    check(X509_sign(c, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
    return certificate;
}

// Writes the certificates, in order, to `path`.
void write_certificates(const std::string& path, const std::vector<X509*>& certificates) {
    std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(path.c_str(), "w"), &BIO_free);
    check(file != nullptr, path.c_str());
    for (X509* c : certificates)
        check(PEM_write_bio_X509(file.get(), c) == 1, path.c_str());
}

void write_key(const std::string& path, EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(path.c_str(), "w"), &BIO_free);
    check(file != nullptr, path.c_str());
    check(PEM_write_bio_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          path.c_str());
}

}  // namespace

test_certificates::test_certificates() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cogent-tls-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("test certificates: mkdtemp failed");
    directory_ = pattern;
    try {
        auto path = [&](const char* name) { return directory_ + "/" + name; };
        key_ptr ca_key = make_key(), server_key = make_key(), client_key = make_key(), other_key = make_key();
        certificate_ptr ca = make_certificate({"cogent test CA", true}, ca_key.get(), nullptr, nullptr);
        certificate_ptr server =
            make_certificate({"localhost", false, "DNS:localhost,IP:127.0.0.1", "serverAuth"},
                             server_key.get(), ca.get(), ca_key.get());
        certificate_ptr client = make_certificate({"cogent test client", false, nullptr, "clientAuth"},
                                                  client_key.get(), ca.get(), ca_key.get());
        certificate_ptr other = make_certificate({"another CA", true}, other_key.get(), nullptr, nullptr);
        ca_file = path("ca.pem");
        write_certificates(ca_file, {ca.get()});
        server_chain_file = path("server.pem");
        write_certificates(server_chain_file, {server.get(), ca.get()});
        server_key_file = path("server.key");
        write_key(server_key_file, server_key.get());
        client_chain_file = path("client.pem");
        write_certificates(client_chain_file, {client.get(), ca.get()});
        client_key_file = path("client.key");
        write_key(client_key_file, client_key.get());
        other_ca_file = path("other-ca.pem");
        write_certificates(other_ca_file, {other.get()});
        garbage_file = path("garbage.pem");
        std::ofstream(garbage_file) << "this is not a certificate\n";
        missing_file = path("missing.pem");
    } catch (...) {
        std::filesystem::remove_all(directory_);
        throw;
    }
}

test_certificates::~test_certificates() {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
}

}  // namespace cogent_test
