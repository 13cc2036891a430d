// SigV4 against AWS's published example signatures. s3rver accepts any
// signature, so these vectors are the only proof that real stores will
// accept ours.
//
// Sources of the expected values:
// - Amazon S3 API Reference, "Signature Calculations for the Authorization
//   Header: Transferring Payload in a Single Chunk", section "Examples"
//   (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html):
//   GET Object with Range, PUT Object, GET Bucket lifecycle, GET Bucket (list
//   objects); credentials AKIAIOSFODNN7EXAMPLE, bucket examplebucket,
//   20130524T000000Z, us-east-1.
// - The AWS Signature Version 4 test suite ("aws-sig-v4-test-suite", as
//   shipped in awslabs/aws-c-auth tests/aws-signing-test-suite/v4):
//   get-vanilla, get-vanilla-query-order-key-case, get-vanilla-query-unreserved,
//   get-vanilla-utf8-query, get-utf8, post-vanilla, get-vanilla-with-session-token;
//   credentials AKIDEXAMPLE, service "service", 20150830T123600Z, us-east-1.
// - IAM User Guide, "Create a signed AWS API request" (the derived signing key
//   for 20150830/us-east-1/iam and the signature of its example string to sign).
#include "wikistream/storage/sigv4.h"

#include <gtest/gtest.h>

namespace ws::storage {
namespace {

const Credentials kS3DocsCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kS3DocsScope{"20130524T000000Z", "us-east-1", "s3"};
constexpr const char* kS3DocsHost = "examplebucket.s3.amazonaws.com";

const Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const SigningScope kSuiteScope{"20150830T123600Z", "us-east-1", "service"};

// An S3 request as the client builds it: host, x-amz-date and
// x-amz-content-sha256 are always signed.
SigningInput S3Request(std::string method, std::string uri, HeaderList query, HeaderList extra,
                       std::string payload_hash) {
  SigningInput in;
  in.method = std::move(method);
  in.canonical_uri = std::move(uri);
  in.query = std::move(query);
  in.payload_hash = payload_hash;
  in.headers = {{"Host", kS3DocsHost}, {"x-amz-date", kS3DocsScope.amz_date}, {"x-amz-content-sha256", payload_hash}};
  for (auto& h : extra) in.headers.push_back(std::move(h));
  return in;
}

SigningInput SuiteRequest(std::string method, std::string uri, HeaderList query = {}) {
  SigningInput in;
  in.method = std::move(method);
  in.canonical_uri = std::move(uri);
  in.query = std::move(query);
  in.payload_hash = std::string(kEmptyPayloadSha256);
  in.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteScope.amz_date}};
  return in;
}

TEST(SigV4Test, HashesAndEncodings) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
  EXPECT_EQ(Sha256Hex("Welcome to Amazon S3."), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");  // RFC 1321 test suite
  EXPECT_EQ(Base64(Md5Raw("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(AmzDate(std::chrono::system_clock::from_time_t(1369353600)), "20130524T000000Z");
  // Unreserved characters stay, everything else is %XX in upper case; '/'
  // stays only in paths.
  EXPECT_EQ(UriEncode("test$file.text", true), "test%24file.text");
  EXPECT_EQ(UriEncode("a b+c/d=e~_-.", true), "a%20b%2Bc/d%3De~_-.");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("\xE1\x88\xB4", false), "%E1%88%B4");
  EXPECT_EQ(CanonicalQueryString({{"prefix", "J"}, {"max-keys", "2"}}), "max-keys=2&prefix=J");
  EXPECT_EQ(CanonicalQueryString({{"lifecycle", ""}}), "lifecycle=");
  EXPECT_EQ(CanonicalQueryString({{"continuation-token", "1/a+b=="}}), "continuation-token=1%2Fa%2Bb%3D%3D");
}

TEST(SigV4Test, SigningKeyFromTheIamGuide) {
  std::string key = SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam");
  EXPECT_EQ(HexEncode(key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  EXPECT_EQ(HexEncode(HmacSha256(key, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
                                      "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  // The S3 examples' key (20130524/us-east-1/s3).
  EXPECT_EQ(HexEncode(SigningKey(kS3DocsCredentials.secret_access_key, "20130524", "us-east-1", "s3")),
            "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
}

TEST(SigV4Test, S3DocsGetObjectWithRange) {
  Signature s = SignV4(S3Request("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}}, std::string(kEmptyPayloadSha256)),
                       kS3DocsCredentials, kS3DocsScope);
  EXPECT_EQ(s.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(Sha256Hex(s.canonical_request), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, S3DocsPutObjectWithHashedPayload) {
  const std::string body = "Welcome to Amazon S3.";
  Signature s = SignV4(S3Request("PUT", "/" + UriEncode("test$file.text", true), {},
                                 {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                  {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                                 Sha256Hex(body)),
                       kS3DocsCredentials, kS3DocsScope);
  EXPECT_EQ(s.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(Sha256Hex(s.canonical_request), "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(s.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, S3DocsGetBucketLifecycle) {
  Signature s = SignV4(S3Request("GET", "/", {{"lifecycle", ""}}, {}, std::string(kEmptyPayloadSha256)),
                       kS3DocsCredentials, kS3DocsScope);
  EXPECT_EQ(Sha256Hex(s.canonical_request), "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  EXPECT_EQ(s.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4Test, S3DocsListObjects) {
  // Query parameters given out of order: the canonical form sorts them.
  Signature s = SignV4(S3Request("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {}, std::string(kEmptyPayloadSha256)),
                       kS3DocsCredentials, kS3DocsScope);
  EXPECT_EQ(Sha256Hex(s.canonical_request), "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  EXPECT_EQ(s.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, UnsignedPayloadChangesTheSignatureButNotTheShape) {
  Signature hashed = SignV4(S3Request("PUT", "/k", {}, {}, Sha256Hex("x")), kS3DocsCredentials, kS3DocsScope);
  Signature unsigned_ = SignV4(S3Request("PUT", "/k", {}, {}, std::string(kUnsignedPayload)), kS3DocsCredentials,
                               kS3DocsScope);
  EXPECT_NE(hashed.signature, unsigned_.signature);
  EXPECT_EQ(unsigned_.signed_headers, "host;x-amz-content-sha256;x-amz-date");
  EXPECT_NE(unsigned_.canonical_request.find("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"), std::string::npos);
  EXPECT_EQ(unsigned_.canonical_request.substr(unsigned_.canonical_request.size() - 16), "UNSIGNED-PAYLOAD");
}

struct SuiteCase {
  const char* name;
  const char* method;
  const char* uri;  // canonical (encoded) path
  HeaderList query;  // raw
  const char* signature;
};

TEST(SigV4Test, AwsTestSuite) {
  const SuiteCase cases[] = {
      {"get-vanilla", "GET", "/", {}, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/",
       {{"Param2", "value2"}, {"Param1", "value1"}},
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-unreserved",
       "GET",
       "/",
       {{"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
         "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}},
       "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
      {"get-vanilla-utf8-query",
       "GET",
       "/",
       {{"\xE1\x88\xB4", "bar"}},
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-utf8", "GET", "/%E1%88%B4", {}, "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
      {"post-vanilla", "POST", "/", {}, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
  };
  for (const SuiteCase& c : cases) {
    Signature s = SignV4(SuiteRequest(c.method, c.uri, c.query), kSuiteCredentials, kSuiteScope);
    EXPECT_EQ(s.signed_headers, "host;x-amz-date") << c.name;
    EXPECT_EQ(s.signature, c.signature) << c.name << "\n" << s.canonical_request;
    EXPECT_EQ(s.authorization, std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                                           "aws4_request, SignedHeaders=host;x-amz-date, Signature=") +
                                   c.signature)
        << c.name;
  }
}

TEST(SigV4Test, AwsTestSuiteSessionToken) {
  // get-vanilla-with-session-token: the token travels as a signed header.
  Credentials creds = kSuiteCredentials;
  creds.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  SigningInput in = SuiteRequest("GET", "/");
  in.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  Signature s = SignV4(in, creds, kSuiteScope);
  EXPECT_EQ(s.signed_headers, "host;x-amz-date;x-amz-security-token");
  EXPECT_EQ(s.signature, "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
}

TEST(SigV4Test, HeaderValuesAreTrimmedAndFolded) {
  SigningInput a = SuiteRequest("GET", "/");
  SigningInput b = a;
  a.headers.emplace_back("My-Header1", "value1 ");
  b.headers.emplace_back("my-header1", "  value1");
  EXPECT_EQ(SignV4(a, kSuiteCredentials, kSuiteScope).canonical_request,
            SignV4(b, kSuiteCredentials, kSuiteScope).canonical_request);
  SigningInput c = SuiteRequest("GET", "/");
  c.headers.emplace_back("x", "a   b");
  EXPECT_NE(SignV4(c, kSuiteCredentials, kSuiteScope).canonical_request.find("\nx:a b\n"), std::string::npos);
}

}  // namespace
}  // namespace ws::storage
