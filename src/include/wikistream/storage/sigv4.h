// AWS Signature Version 4 (SigV4) request signing, on OpenSSL's SHA-256 and
// HMAC, plus the hashing and encoding helpers the S3 client shares.
//
// Contract: SignV4 is a pure function of its inputs (no clock, no
// environment), so tests check it against AWS's published example
// signatures. It signs exactly the headers it is given: the caller adds
// host, x-amz-date, x-amz-content-sha256 and (with temporary credentials)
// x-amz-security-token before signing and sends the same values. Paths are
// passed already URI-encoded (S3 encodes each key once, keeping '/');
// query parameters are passed raw and encoded here.
// Everything here is thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ws::storage {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // set for temporary credentials (AWS_SESSION_TOKEN)
};

// The payload-hash value that tells S3 the body is not part of the signature
// (only sensible over TLS, where the transport protects the body).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// --- hashing and encoding -----------------------------------------------------
std::string HexEncode(std::string_view bytes);                      // lower-case
std::string Sha256Hex(std::string_view data);                       // hex SHA-256
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string Md5Hex(std::string_view data);                          // an S3 ETag of a single PUT
std::string Md5Raw(std::string_view data);                          // 16 bytes
std::string Base64(std::string_view bytes);                         // Content-MD5

// Percent-encodes per SigV4: unreserved characters (A-Z a-z 0-9 - _ . ~) stay,
// every other byte becomes %XX with upper-case hex; '/' stays when keep_slash
// (object keys in a path) and becomes %2F otherwise (query names and values).
std::string UriEncode(std::string_view s, bool keep_slash);

// "20130524T000000Z" (ISO 8601 basic, UTC).
std::string AmzDate(std::chrono::system_clock::time_point t);

// --- signing -------------------------------------------------------------------
using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SigningInput {
  std::string method;         // "GET", "PUT", ...
  std::string canonical_uri;  // URI-encoded absolute path, "/" for the root
  HeaderList query;           // raw (unencoded) name/value pairs, any order
  HeaderList headers;         // every header to sign, host included; any case, any order
  std::string payload_hash;   // hex SHA-256 of the body, or kUnsignedPayload
};

struct SigningScope {
  std::string amz_date;  // "20130524T000000Z"; its first 8 characters are the scope date
  std::string region;    // "us-east-1"
  std::string service;   // "s3"
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "host;range;x-amz-content-sha256;x-amz-date"
  std::string signature;       // hex
  std::string authorization;   // the value of the Authorization header
};

// Sorted, encoded "a=1&b=2" (a parameter without a value is "name=").
std::string CanonicalQueryString(const HeaderList& query);
// kSigning = HMAC chain over "AWS4" + secret, date (YYYYMMDD), region, service, "aws4_request".
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);
Signature SignV4(const SigningInput& request, const Credentials& credentials, const SigningScope& scope);

}  // namespace ws::storage
