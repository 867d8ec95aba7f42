#include "yaml_documents.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <sstream>

namespace ember::config::detail {

namespace {

// Sees a document's events and keeps nothing but where its root node starts (where the
// document starts when it has none), as YAML::Node::Mark() would say.
class DocumentStart : public YAML::EventHandler {
 public:
  [[nodiscard]] YAML::Mark mark() const { return node_.value_or(document_); }
  void OnDocumentStart(const YAML::Mark& at) override { document_ = at; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& at, YAML::anchor_t /*anchor*/) override { seen(at); }
  void OnAlias(const YAML::Mark& at, YAML::anchor_t /*anchor*/) override { seen(at); }
  void OnScalar(const YAML::Mark& at, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {
    seen(at);
  }
  void OnSequenceStart(const YAML::Mark& at, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                       YAML::EmitterStyle::value /*style*/) override {
    seen(at);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& at, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {
    seen(at);
  }
  void OnMapEnd() override {}

 private:
  void seen(const YAML::Mark& at) {
    if (!node_) node_ = at;
  }
  YAML::Mark document_;
  std::optional<YAML::Mark> node_;
};

}  // namespace

YamlDocuments load_documents(const std::string& text) {
  YamlDocuments out;
  out.first = YAML::Load(text);  // the first document only: one round of the parser
  // Then a parser that builds nothing counts the documents, a bounded number of rounds
  // where LoadAll's `while (HandleNextDocument())` is not.
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  while (out.count <= kMaxCountedDocuments) {
    DocumentStart document;
    if (!parser.HandleNextDocument(document)) break;
    if (++out.count == 2) out.second = document.mark();
  }
  return out;
}

}  // namespace ember::config::detail
