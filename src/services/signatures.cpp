#include "services/signatures.hpp"

#include "base/crypto.hpp"
#include "security/policy.hpp"
#include "security/signing.hpp"
#include "services/reporting_detail.hpp"

#include <fmt/format.h>

namespace statgov::services {

namespace {

Error unit_not_found() {
  return make_error(ErrorKind::not_found, "UNIT_NOT_FOUND", "没有该单位或不在您的权限范围内",
                    "No such unit, or it is outside your scope");
}

Error enterprise_only() {
  return make_error(ErrorKind::forbidden, "FORBIDDEN", "只有企业本身可以登记或吊销其签章公钥",
                    "Only the enterprise itself registers or revokes its signing keys");
}

json key_json(const store::UnitKeyRow& k) {
  return {{"key_id", k.key_id},
          {"unit_id", k.unit_id},
          {"public_key", k.public_key},
          {"label", k.label},
          {"created_at", k.created_at},
          {"created_by", k.created_by},
          {"revoked_at", k.revoked_at.empty() ? json(nullptr) : json(k.revoked_at)},
          {"revoked_by", k.revoked_by.empty() ? json(nullptr) : json(k.revoked_by)}};
}

// The unit, if the caller may see it (enterprise: its own; staff: view_units within scope).
Result<store::UnitRow> visible_unit(store::Store& store, const Actor& a, std::int64_t unit_id) {
  if (a.user.role != domain::Role::enterprise)
    SG_TRY(security::authorize(a.user, security::Action::view_units));
  auto scope = domain::Scope::of(a.user);
  SG_ASSIGN_OR_RETURN(auto u, store.read([&](store::Conn& c) {
    return store::find_unit(c, scope, unit_id);
  }));
  if (!u) return unit_not_found();
  return std::move(*u);
}

Error bad_signature(const std::string& zh, const std::string& en) {
  return make_error(ErrorKind::unprocessable, "BAD_SIGNATURE", "电子签章验证失败：" + zh,
                    "The e-signature does not verify: " + en);
}

}  // namespace

Result<std::optional<SignatureClaim>> signature_claim(const json& body) {
  bool has_sig = body.contains("signature"), has_key = body.contains("key_id");
  if (!has_sig && !has_key) return std::optional<SignatureClaim>();
  const char* missing = has_sig ? "key_id" : "signature";
  if (!has_sig || !has_key) {
    return make_error(ErrorKind::invalid, "MISSING_FIELD", std::string("缺少字段：") + missing,
                      std::string("Missing field: ") + missing,
                      json::array({{{"field", missing}}}));
  }
  if (!body["signature"].is_string() || !body["key_id"].is_string() ||
      body["signature"].get<std::string>().size() > 200 ||
      body["key_id"].get<std::string>().size() > 64) {
    return make_error(ErrorKind::invalid, "WRONG_TYPE", "signature 和 key_id 应为文本",
                      "signature and key_id must be short strings");
  }
  return std::optional<SignatureClaim>(
      SignatureClaim{body["signature"].get<std::string>(), body["key_id"].get<std::string>()});
}

Result<store::SignatureRow> check_submission_signature(
    store::Conn& c, const SignatureClaim& claim, const store::UnitRow& unit,
    const std::string& form, const std::string& period, const json& values, int version,
    const std::string& now, const std::string& actor) {
  SG_ASSIGN_OR_RETURN(auto key, store::find_unit_key(c, claim.key_id));
  if (!key || key->unit_id != unit.id) {
    return make_error(ErrorKind::unprocessable, "KEY_UNKNOWN",
                      "签章公钥 " + claim.key_id + " 未登记在本单位名下",
                      "Signing key " + claim.key_id + " is not registered for this unit");
  }
  if (!key->revoked_at.empty()) {
    return make_error(ErrorKind::unprocessable, "KEY_REVOKED",
                      "签章公钥 " + claim.key_id + " 已于 " + key->revoked_at + " 吊销",
                      "Signing key " + claim.key_id + " was revoked at " + key->revoked_at);
  }
  auto sig = security::base64_decode(claim.signature);
  if (!sig.ok() || sig->size() != 64)
    return bad_signature("签名应为64字节的 Base64", "the signature must be 64 bytes in base64");
  SG_ASSIGN_OR_RETURN(
      auto payload, security::submission_signing_payload(form, period, unit.uscc, values, version));
  SG_ASSIGN_OR_RETURN(auto pub, security::base64_decode(key->public_key));
  if (!security::ed25519_verify(pub, payload, *sig)) {
    return make_error(
        ErrorKind::unprocessable, "BAD_SIGNATURE",
        fmt::format("电子签章验证失败：签名与报送内容不符（签名应覆盖表式、报告期、单位代码、数值和"
                    "版本号 {}）",
                    version),
        fmt::format("The e-signature does not verify: it does not match the submitted content "
                    "(it must cover form, period, unit code, values and version {})",
                    version),
        json::array({{{"version", version}, {"payload_sha256", sha256_hex(payload)}}}));
  }
  return store::SignatureRow{0,   version, key->key_id, claim.signature, sha256_hex(payload),
                             now, actor};
}

Result<json> SignatureService::register_key(const Actor& a, std::int64_t unit_id,
                                            const json& body) {
  if (a.user.role != domain::Role::enterprise) return enterprise_only();
  if (a.user.unit_id != unit_id) return unit_not_found();
  SG_TRY(check_body(body, {"public_key", "label"}, "public_key"));
  if (!body["public_key"].is_string() || (body.contains("label") && !body["label"].is_string())) {
    return make_error(ErrorKind::invalid, "WRONG_TYPE", "public_key 和 label 应为文本",
                      "public_key and label must be strings");
  }
  auto pub = security::base64_decode(body["public_key"].get<std::string>());
  if (!pub.ok() || pub->size() != 32) {
    return make_error(ErrorKind::invalid, "BAD_PUBLIC_KEY",
                      "公钥应为32字节 Ed25519 公钥的 Base64 编码",
                      "public_key must be the base64 of a 32-byte Ed25519 public key");
  }
  std::string label = body.value("label", "");
  if (label.size() > 200) {
    return make_error(ErrorKind::invalid, "OUT_OF_RANGE", "标签最长200字节",
                      "A label has at most 200 bytes");
  }
  SG_ASSIGN_OR_RETURN(auto unit, visible_unit(store_, a, unit_id));
  store::UnitKeyRow k;
  k.key_id = security::key_fingerprint(*pub);
  k.unit_id = unit.id;
  k.public_key = base64(*pub);
  k.label = label;
  k.created_at = format_utc(clock_.now());
  k.created_by = a.user.login;
  SG_TRY(store_.write([&](store::Conn& c) -> Status {
    SG_ASSIGN_OR_RETURN(auto existing, store::find_unit_key(c, k.key_id));
    if (existing) {
      return make_error(ErrorKind::conflict, "KEY_EXISTS", "该公钥已登记过",
                        "This public key is already registered");
    }
    SG_TRY(store::insert_unit_key(c, k));
    return store::append_audit(c, k.created_at, a.user.login, "key_register",
                               fmt::format("unit:{}/key:{}", unit.id, k.key_id),
                               {{"label", label}, {"ip", a.ip}});
  }));
  return key_json(k);
}

Result<json> SignatureService::list_keys(const Actor& a, std::int64_t unit_id) {
  SG_ASSIGN_OR_RETURN(auto unit, visible_unit(store_, a, unit_id));
  SG_ASSIGN_OR_RETURN(auto keys, store_.read([&](store::Conn& c) {
    return store::list_unit_keys(c, unit.id);
  }));
  json items = json::array();
  for (const auto& k : keys) items.push_back(key_json(k));
  return json{{"items", items}};
}

Result<json> SignatureService::revoke_key(const Actor& a, std::int64_t unit_id,
                                          const std::string& key_id) {
  if (a.user.role != domain::Role::enterprise) return enterprise_only();
  if (a.user.unit_id != unit_id) return unit_not_found();
  SG_ASSIGN_OR_RETURN(auto unit, visible_unit(store_, a, unit_id));
  auto now = format_utc(clock_.now());
  return store_.write([&](store::Conn& c) -> Result<json> {
    SG_ASSIGN_OR_RETURN(auto k, store::find_unit_key(c, key_id));
    if (!k || k->unit_id != unit.id) {
      return make_error(ErrorKind::not_found, "KEY_NOT_FOUND", "本单位没有该签章公钥：" + key_id,
                        "This unit has no signing key " + key_id);
    }
    if (!k->revoked_at.empty()) {
      return make_error(ErrorKind::conflict, "KEY_REVOKED", "该公钥已吊销",
                        "The key is already revoked");
    }
    SG_TRY(store::revoke_unit_key(c, key_id, now, a.user.login));
    SG_TRY(store::append_audit(c, now, a.user.login, "key_revoke",
                               fmt::format("unit:{}/key:{}", unit.id, key_id), {{"ip", a.ip}}));
    k->revoked_at = now;
    k->revoked_by = a.user.login;
    return key_json(*k);
  });
}

Result<json> SignatureService::status(const Actor& a, std::int64_t submission_id) {
  auto forbidden = make_error(ErrorKind::forbidden, "FORBIDDEN", "该报表不在您的权限范围内",
                              "The submission is outside your scope");
  if (a.user.role != domain::Role::enterprise)
    SG_TRY(security::authorize(a.user, security::Action::view_submissions));
  SG_ASSIGN_OR_RETURN(auto row, store_.read([&](store::Conn& c) {
    return store::find_submission_by_id(c, submission_id);
  }));
  if (!row) {
    return make_error(ErrorKind::not_found, "SUBMISSION_NOT_FOUND", "没有该报表",
                      "No such submission");
  }
  auto scope = domain::Scope::of(a.user);
  if (scope.unit_id ? *scope.unit_id != row->unit_id : !scope.covers_region(row->region))
    return forbidden;
  json out = {{"submission_id", row->id}, {"version", row->version}, {"state", row->state}};
  SG_ASSIGN_OR_RETURN(auto sigs, store_.read([&](store::Conn& c) {
    return store::list_signatures(c, row->id);
  }));
  json signed_versions = json::array();
  const store::SignatureRow* current = nullptr;
  for (const auto& s : sigs) {
    signed_versions.push_back(s.version);
    if (s.version == row->version) current = &s;
  }
  out["signed_versions"] = signed_versions;
  if (!current) {
    out["status"] = "not_signed";
    out["signed"] = false;
    out["valid"] = false;
    return out;
  }
  out["signed"] = true;
  out["key_id"] = current->key_id;
  out["signed_at"] = current->signed_at;
  out["signed_by"] = current->signed_by;
  out["payload_sha256"] = current->payload_sha256;
  SG_ASSIGN_OR_RETURN(auto key, store_.read([&](store::Conn& c) {
    return store::find_unit_key(c, current->key_id);
  }));
  SG_ASSIGN_OR_RETURN(auto unit, store_.read([&](store::Conn& c) {
    return store::find_unit(c, domain::Scope{}, row->unit_id);
  }));
  auto invalid = [&](const char* code, const std::string& zh, const std::string& en) {
    out["status"] = "invalid";
    out["valid"] = false;
    out["reason"] = {{"code", code}, {"message", zh}, {"message_en", en}};
    return out;
  };
  if (!key || !unit)
    return invalid("KEY_MISSING", "签章公钥记录缺失", "The signing key record is missing");
  out["key_label"] = key->label;
  out["key_revoked_at"] = key->revoked_at.empty() ? json(nullptr) : json(key->revoked_at);
  // A signature made before a key was revoked stays valid: revocation stops new signatures.
  auto payload = security::submission_signing_payload(row->form_code, row->period, unit->uscc,
                                                      row->values, row->version);
  auto pub = security::base64_decode(key->public_key);
  auto sig = security::base64_decode(current->signature);
  if (!payload.ok() || !pub.ok() || !sig.ok()) {
    return invalid("SIGNATURE_UNREADABLE", "存储的签名或数值无法读取",
                   "The stored signature or values cannot be read");
  }
  std::string now_hash = sha256_hex(*payload);
  out["current_payload_sha256"] = now_hash;
  if (now_hash != current->payload_sha256) {
    return invalid("VALUES_CHANGED", "当前存储的数值与签章时的内容不一致，数据可能在签章后被改动",
                   "The values stored now differ from what was signed; the data may have been "
                   "altered after signing");
  }
  if (!security::ed25519_verify(*pub, *payload, *sig)) {
    return invalid(
        "SIGNATURE_MISMATCH", "签名与内容不符（签名或公钥记录被改动）",
        "The signature does not match the content (the signature or key record was altered)");
  }
  out["status"] = "valid";
  out["valid"] = true;
  return out;
}

}  // namespace statgov::services
