// Deployment packages unpacked into a code directory: hostile zips, built here with python3's
// zipfile, are refused with the entry named, and nothing lands outside the directory.
#include "ember/image/zip_archive.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "ember/client/child_process.hpp"
#include "ember/client/temp_dir.hpp"
#include "ember/runtime_api/hex.hpp"

namespace ember::image {
namespace {

namespace fs = std::filesystem;

class ZipArchive : public ::testing::Test {
 protected:
  // A zip made by `body`, Python run with `z` an open zipfile.ZipFile and `info(name, mode)`
  // a ZipInfo with Unix mode bits (S_IFLNK | 0777 for a symlink).
  std::string make_zip(const std::string& body) {
    const auto script = dir_.path() / "make.py";
    const auto zip = dir_.path() / "f.zip";
    {
      std::ofstream out(script);
      out << "import sys, zipfile\n"
             "def info(name, mode):\n"
             "    i = zipfile.ZipInfo(name)\n"
             "    i.create_system = 3\n"
             "    i.external_attr = mode << 16\n"
             "    i.compress_type = zipfile.ZIP_DEFLATED\n"
             "    return i\n"
             "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n";
      std::istringstream lines(body);
      for (std::string line; std::getline(lines, line);) out << "    " << line << "\n";
    }
    fs::remove(zip);
    client::ChildProcess python({.argv = {"python3", script.string(), zip.string()}});
    EXPECT_EQ(python.wait_for(std::chrono::seconds(30)), 0) << "building the zip failed";
    std::ifstream in(zip, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  fs::path fresh_root() {
    const auto root = dir_.path() / ("code" + std::to_string(++roots_));
    fs::create_directories(root);
    return root;
  }

  std::string refusal(const std::string& zip, const ZipLimits& limits = {}) {
    auto result = unpack_zip(zip, fresh_root(), limits);
    if (auto* why = std::get_if<std::string>(&result)) return *why;
    ADD_FAILURE() << "the zip was accepted";
    return {};
  }

  client::TempDir dir_{"ember-zip-"};
  int roots_ = 0;
};

TEST_F(ZipArchive, UnpacksFilesDirectoriesModesAndAnInsideSymlink) {
  const auto zip = make_zip(
      "z.writestr(info('bootstrap', 0o100755), '#!/bin/sh\\necho hi\\n')\n"
      "z.writestr(info('lib/data.txt', 0o100644), 'data')\n"
      "z.writestr(info('lib/link', 0o120777), 'data.txt')\n"
      "z.writestr(info('up', 0o120777), 'lib/../lib/data.txt')\n"
      "z.writestr('plain.txt', 'no unix mode')\n"
      "z.writestr(info('private', 0o100700), 'owner only')\n");
  const auto root = fresh_root();
  auto result = unpack_zip(zip, root);
  ASSERT_TRUE(std::holds_alternative<UnpackedZip>(result)) << std::get<std::string>(result);
  EXPECT_EQ(std::get<UnpackedZip>(result).entries, 6U);
  struct stat st {};
  ASSERT_EQ(::stat((root / "bootstrap").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755U);
  EXPECT_EQ(fs::read_symlink(root / "lib" / "link"), "data.txt");
  std::ifstream data(root / "lib" / "link");
  std::string text;
  data >> text;
  EXPECT_EQ(text, "data");
  // The sandbox's user is not the owner: everything is readable, executables by everyone.
  ASSERT_EQ(::stat((root / "plain.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644U);
  ASSERT_EQ(::stat((root / "private").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755U);
}

TEST_F(ZipArchive, DotDotEntryIsRefusedByName) {
  const auto why = refusal(make_zip("z.writestr(info('a/../../evil', 0o100644), 'x')\n"));
  EXPECT_EQ(why,
            "entry \"a/../../evil\": refused, '..' in the path (would write outside the "
            "code directory)");
  EXPECT_FALSE(fs::exists(dir_.path() / "evil"));
}

TEST_F(ZipArchive, AbsoluteEntryIsRefusedByName) {
  const auto why = refusal(make_zip("z.writestr(info('/tmp/ember-evil', 0o100644), 'x')\n"));
  EXPECT_NE(why.find("entry \"/tmp/ember-evil\": refused, absolute path"), std::string::npos)
      << why;
  EXPECT_FALSE(fs::exists("/tmp/ember-evil"));
}

TEST_F(ZipArchive, SymlinkLeadingOutsideIsRefused) {
  const auto absolute = refusal(make_zip("z.writestr(info('etc', 0o120777), '/etc')\n"));
  EXPECT_EQ(absolute,
            "entry \"etc\": refused, symbolic link to \"/etc\" leads outside the code directory");
  const auto relative = refusal(make_zip("z.writestr(info('a/up', 0o120777), '../../outside')\n"));
  EXPECT_NE(relative.find("entry \"a/up\": refused, symbolic link to \"../../outside\""),
            std::string::npos)
      << relative;
}

TEST_F(ZipArchive, WritingThroughASymlinkIsRefused) {
  // The link stays inside, but a later entry must not be written through any link.
  const auto why =
      refusal(make_zip("z.writestr(info('real/keep', 0o100644), 'x')\n"
                       "z.writestr(info('dir', 0o120777), 'real')\n"
                       "z.writestr(info('dir/planted', 0o100644), 'y')\n"));
  EXPECT_NE(why.find("entry \"dir/planted\": refused, its directory \"dir\" is or passes through "
                     "a symbolic link"),
            std::string::npos)
      << why;
}

TEST_F(ZipArchive, DuplicateEntryIsRefused) {
  const auto why =
      refusal(make_zip("z.writestr(info('f', 0o100644), 'x')\n"
                       "import warnings; warnings.simplefilter('ignore')\n"
                       "z.writestr(info('f', 0o100644), 'y')\n"));
  EXPECT_EQ(why, "entry \"f\": duplicate entry");
}

TEST_F(ZipArchive, UnzippedSizeOverTheLimitIsRefused) {
  // 2 MB of zeros compress to a few KB: a small zip bomb against a 1 MB limit.
  const auto zip = make_zip("z.writestr(info('zeros', 0o100644), b'\\0' * (2 << 20))\n");
  ASSERT_LT(zip.size(), 64U * 1024);
  const auto why = refusal(zip, {.max_unpacked_bytes = 1 << 20, .max_entries = 100});
  EXPECT_EQ(why, "Unzipped size must be smaller than 1048576 bytes (at entry \"zeros\")");
}

TEST_F(ZipArchive, TooManyEntriesAreRefused) {
  const auto zip = make_zip("for i in range(30): z.writestr(info(f'f{i}', 0o100644), '')\n");
  const auto why = refusal(zip, {.max_unpacked_bytes = 1 << 20, .max_entries = 20});
  EXPECT_EQ(why, "more than 20 entries (the limit of a deployment package)");
}

TEST_F(ZipArchive, NotAZipIsRefused) {
  const auto why = refusal("this is not a zip file at all");
  EXPECT_NE(why.find("zip"), std::string::npos) << why;
}

// A corrupt zip for which libarchive sets no error text (its central directory cut short
// after the first entry): refused with a reason, where appending libarchive's NULL text
// crashed the node (found by tests/fuzz/zip_fuzz; the input is its corpus file).
TEST_F(ZipArchive, CorruptZipWithoutLibarchiveTextIsRefusedNotACrash) {
  std::ifstream in(std::string(EMBER_SOURCE_DIR) + "/tests/fuzz/corpus/zip/crash-no-error-text",
                   std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  ASSERT_FALSE(bytes.str().empty());
  const auto why = refusal(bytes.str());
  EXPECT_NE(why.find("corrupt zip archive"), std::string::npos) << why;
  EXPECT_NE(why.find("libarchive gave no reason"), std::string::npos) << why;
}

TEST(CodeSha256, IsTheDigestOfTheBytes) {
  EXPECT_EQ(runtime_api::hex_encode(sha256_raw("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace ember::image
