// ImageStore against images built here with umoci and skopeo, and layers crafted with
// libarchive's writer (tests/support/test_images.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "ember/client/temp_dir.hpp"
#include "ember/image/image.hpp"
#include "test_images.hpp"

namespace ember::image {
namespace {

namespace fs = std::filesystem;
using client::TempDir;
using test::LayerCompression;
using test::TarEntry;
using ::testing::HasSubstr;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const test::ImageSpec kSpec = {.entrypoint = {"/bin/sh", "-c"},
                               .cmd = {"echo hi"},
                               .env = {"PATH=/bin", "GREETING=hello"},
                               .working_dir = "/etc"};

class ImageStoreTest : public ::testing::Test {
 protected:
  // One busybox image for the whole suite; tests that change it work on a copy.
  static void SetUpTestSuite() {
    if (test::missing_image_tools()) return;
    base_ = new TempDir("ember-image-base-");
    test::make_busybox_root(base_->path() / "root");
    test::build_oci_image(base_->path() / "root", base_->path() / "oci", "v1", kSpec);
  }
  static void TearDownTestSuite() {
    delete base_;
    base_ = nullptr;
  }

  void SetUp() override {
    if (auto missing = test::missing_image_tools()) GTEST_SKIP() << *missing;
    store_ = std::make_unique<ImageStore>(StoreOptions{.dir = dir_.path() / "images"});
  }

  // A private copy of the suite's OCI layout.
  fs::path layout() {
    const fs::path copy = dir_.path() / "oci";
    if (!fs::exists(copy)) fs::copy(base_->path() / "oci", copy, fs::copy_options::recursive);
    return copy;
  }
  ImageRef ref(const std::string& text) const { return parse_image_ref(text, dir_.path()); }

  // What ensure() throws for `r`, after checking it left nothing in the store at `dir`.
  std::string refusal(ImageStore& store, const fs::path& dir, const ImageRef& r) {
    const auto before = entries(dir);
    try {
      (void)store.ensure(r);
    } catch (const ImageError& e) {
      EXPECT_EQ(entries(dir), before) << "left behind by " << r.to_string();
      return e.what();
    }
    ADD_FAILURE() << r.to_string() << " was accepted";
    return {};
  }
  std::string refusal(const ImageRef& r) { return refusal(*store_, dir_.path() / "images", r); }

  // The store's directory, but its lock files.
  static std::set<std::string> entries(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
    return names;
  }

  static TempDir* base_;
  TempDir dir_{"ember-image-test-"};
  std::unique_ptr<ImageStore> store_;
};

TempDir* ImageStoreTest::base_ = nullptr;

TEST_F(ImageStoreTest, UnpacksAnOciLayoutAndReadsItsConfig) {
  const fs::path oci = layout();
  const StoredImage image = store_->ensure(ref("oci:oci:v1"));

  EXPECT_EQ(image.digest, test::manifest_digest(oci, "v1"));
  EXPECT_EQ(image.config.entrypoint, kSpec.entrypoint);
  EXPECT_EQ(image.config.cmd, kSpec.cmd);
  EXPECT_EQ(image.config.env, kSpec.env);
  EXPECT_EQ(image.config.working_dir, "/etc");
  EXPECT_EQ(image.source, "oci:" + (dir_.path() / "oci").string() + ":v1");
  EXPECT_EQ(image.rootfs, dir_.path() / "images" / ("sha256-" + image.digest.substr(7)) / "rootfs");

  EXPECT_EQ(read(image.rootfs / "etc/hello"), "hello from the image\n");
  EXPECT_EQ(fs::read_symlink(image.rootfs / "bin/sh"), "busybox");
  EXPECT_EQ(fs::file_size(image.rootfs / "bin/busybox"), fs::file_size("/bin/busybox"));
  EXPECT_EQ(image.unpacked_bytes, fs::file_size("/bin/busybox") + 21);
  struct stat st {};
  ASSERT_EQ(::stat((image.rootfs / "bin/busybox").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755U);
  ASSERT_EQ(::stat(image.rootfs.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755U);
  for (const char* mount_point : {"proc", "dev", "tmp"}) {
    EXPECT_TRUE(fs::is_directory(image.rootfs / mount_point)) << mount_point;
  }

  ASSERT_EQ(store_->list().size(), 1U);
  EXPECT_EQ(store_->list()[0].digest, image.digest);
  EXPECT_EQ(store_->list()[0].config, image.config);
  // A second ensure, from another store object too, finds it.
  EXPECT_EQ(
      ImageStore(StoreOptions{.dir = dir_.path() / "images"}).ensure(ref("oci:oci:v1")).rootfs,
      image.rootfs);
}

TEST_F(ImageStoreTest, ResolveNamesTheDigestWithoutUnpacking) {
  const fs::path oci = layout();
  EXPECT_EQ(store_->resolve(ref("oci:oci:v1")), test::manifest_digest(oci, "v1"));
  EXPECT_TRUE(store_->list().empty());
}

TEST_F(ImageStoreTest, ReadsOciArchivesAndDockerArchivesAsSkopeoWritesThem) {
  const fs::path oci = layout();
  test::copy_image("oci:" + oci.string() + ":v1",
                   "oci-archive:" + (dir_.path() / "o.tar").string() + ":v1");
  test::copy_image("oci:" + oci.string() + ":v1",
                   "docker-archive:" + (dir_.path() / "d.tar").string() + ":fn:v1");

  const StoredImage from_layout = store_->ensure(ref("oci:oci:v1"));
  const StoredImage from_oci_archive = store_->ensure(ref("oci-archive:o.tar:v1"));
  EXPECT_EQ(from_oci_archive.digest, from_layout.digest);  // the same manifest

  const StoredImage from_docker = store_->ensure(ref("docker-archive:d.tar:fn:v1"));
  EXPECT_NE(from_docker.digest, from_layout.digest);  // derived from docker save's format
  EXPECT_EQ(from_docker.config, from_layout.config);
  EXPECT_EQ(read(from_docker.rootfs / "etc/hello"), "hello from the image\n");
  EXPECT_EQ(fs::read_symlink(from_docker.rootfs / "bin/sh"), "busybox");
  // The only image of the archive needs no tag; the digest is stable.
  EXPECT_EQ(store_->resolve(ref("docker-archive:d.tar")), from_docker.digest);
  EXPECT_EQ(store_->resolve(ref("docker-archive:d.tar:docker.io/library/fn:v1")),
            from_docker.digest);
  EXPECT_EQ(store_->list().size(), 2U);
}

TEST_F(ImageStoreTest, SelectsByTagAndNamesTheTagsWhenItCannot) {
  const fs::path oci = layout();
  const fs::path root2 = dir_.path() / "root2";
  test::make_busybox_root(root2);
  std::ofstream(root2 / "etc/second") << "v2\n";
  test::build_oci_image(root2, oci, "v2", kSpec);

  EXPECT_EQ(read(store_->ensure(ref("oci:oci:v2")).rootfs / "etc/second"), "v2\n");
  EXPECT_FALSE(fs::exists(store_->ensure(ref("oci:oci:v1")).rootfs / "etc/second"));

  ImageStore other(StoreOptions{.dir = dir_.path() / "other"});
  const std::string no_tag = refusal(other, dir_.path() / "other", ref("oci:oci"));
  EXPECT_THAT(no_tag, HasSubstr(oci.string() + ": index.json lists 2 images: name one by tag"));
  EXPECT_THAT(no_tag, HasSubstr("v1, v2"));
  EXPECT_EQ(refusal(other, dir_.path() / "other", ref("oci:oci:v3")),
            "oci:" + oci.string() + ":v3: no image tagged \"v3\" (tags: v1, v2)");

  test::copy_image("oci:" + oci.string() + ":v1",
                   "docker-archive:" + (dir_.path() / "d.tar").string() + ":fn:v1");
  EXPECT_EQ(refusal(other, dir_.path() / "other", ref("docker-archive:d.tar:fn:v9")),
            "docker-archive:" + (dir_.path() / "d.tar").string() +
                ":fn:v9: no image tagged \"fn:v9\" (tags: docker.io/library/fn:v1)");
}

TEST_F(ImageStoreTest, AppliesWhiteoutsAndOpaqueDirectoriesOfUpperLayers) {
  const fs::path oci = layout();
  test::append_layer(oci, "v1",
                     {{.path = "data", .type = TarEntry::Type::kDirectory, .mode = 0755},
                      {.path = "data/a", .data = "a"},
                      {.path = "data/sub", .type = TarEntry::Type::kDirectory, .mode = 0755},
                      {.path = "data/sub/b", .data = "b"},
                      {.path = "keep", .type = TarEntry::Type::kDirectory, .mode = 0755},
                      {.path = "keep/old", .data = "old"},
                      {.path = "keep/stays", .data = "stays"}});
  // Whiteouts in any order relative to the layer's own entries: they hide lower layers only.
  test::append_layer(oci, "v1",
                     {{.path = "data/new", .data = "new"},
                      {.path = "data/.wh..wh..opq", .data = ""},
                      {.path = "etc/.wh.hello", .data = ""},
                      {.path = "keep/old", .data = "replaced"},
                      {.path = "keep/.wh.old", .data = ""},
                      {.path = "keep/.wh.never-was", .data = ""}});
  const StoredImage image = store_->ensure(ref("oci:oci:v1"));
  const fs::path root = image.rootfs;
  EXPECT_FALSE(fs::exists(root / "etc/hello"));
  EXPECT_TRUE(fs::is_directory(root / "etc"));
  EXPECT_FALSE(fs::exists(root / "data/a"));
  EXPECT_FALSE(fs::exists(root / "data/sub"));
  EXPECT_EQ(read(root / "data/new"), "new");
  EXPECT_EQ(read(root / "keep/old"), "replaced");
  EXPECT_EQ(read(root / "keep/stays"), "stays");
  EXPECT_FALSE(fs::exists(root / "data/.wh..wh..opq"));
  EXPECT_FALSE(fs::exists(root / "keep/.wh.old"));
}

TEST_F(ImageStoreTest, KeepsHardLinksInsideAndSkipsFifos) {
  const fs::path oci = layout();
  test::append_layer(
      oci, "v1",
      {{.path = "bin/ln-busybox", .type = TarEntry::Type::kHardLink, .data = "bin/busybox"},
       {.path = "abs-link", .type = TarEntry::Type::kSymlink, .data = "/etc/hello"},
       {.path = "pipe", .type = TarEntry::Type::kFifo},
       {.path = "setuid", .data = "x", .mode = 04755}},
      LayerCompression::kNone);
  const fs::path root = store_->ensure(ref("oci:oci:v1")).rootfs;
  EXPECT_TRUE(fs::equivalent(root / "bin/ln-busybox", root / "bin/busybox"));
  EXPECT_EQ(fs::read_symlink(root / "abs-link"), "/etc/hello");  // as written
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "pipe")));
  struct stat st {};
  ASSERT_EQ(::stat((root / "setuid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755U);
}

TEST_F(ImageStoreTest, ReadsZstdLayers) {
  const fs::path oci = layout();
  test::copy_image("oci:" + oci.string() + ":v1", "oci:" + (dir_.path() / "zstd").string() + ":v1",
                   {"--dest-compress-format", "zstd"});
  const fs::path zstd = dir_.path() / "zstd";
  EXPECT_THAT(read(test::blob_path(zstd, test::manifest_digest(zstd, "v1"))),
              HasSubstr("tar+zstd"));
  test::append_layer(zstd, "v1", {{.path = "etc/zstd", .data = "crafted"}},
                     LayerCompression::kZstd);
  const fs::path root = store_->ensure(ref("oci:zstd:v1")).rootfs;
  EXPECT_EQ(read(root / "etc/hello"), "hello from the image\n");
  EXPECT_EQ(read(root / "etc/zstd"), "crafted");
}

TEST_F(ImageStoreTest, PicksTheNodesPlatformFromAMultiPlatformIndex) {
  const fs::path oci = layout();
  test::wrap_in_index(oci, "v1", Platform::host().to_string(), {"linux/s390x", "linux/ppc64le"});
  EXPECT_EQ(read(store_->ensure(ref("oci:oci:v1")).rootfs / "etc/hello"), "hello from the image\n");
}

TEST_F(ImageStoreTest, RefusesAnImageForAnotherArchitectureNamingBoth) {
  const fs::path oci = layout();
  test::wrap_in_index(oci, "v1", "linux/s390x", {"linux/riscv64"});
  EXPECT_EQ(refusal(ref("oci:oci:v1")), "oci:" + oci.string() + ":v1: no image for " +
                                            Platform::host().to_string() +
                                            " in the index (it has: linux/riscv64, linux/s390x)");

  // A single-platform image says its architecture in its config.
  const fs::path root = dir_.path() / "root-s390x";
  test::make_busybox_root(root);
  test::build_oci_image(root, dir_.path() / "s390x", "v1",
                        test::ImageSpec{.cmd = {"x"}, .architecture = "s390x"});
  EXPECT_THAT(refusal(ref("oci:s390x:v1")), HasSubstr(": image is for linux/s390x, this node is " +
                                                      Platform::host().to_string()));
}

TEST_F(ImageStoreTest, RefusesMissingFiles) {
  EXPECT_EQ(refusal(ref("oci:nowhere:v1")), "oci:" + (dir_.path() / "nowhere").string() +
                                                ":v1: " + (dir_.path() / "nowhere").string() +
                                                ": no such directory (an OCI image layout)");
  EXPECT_THAT(refusal(ref("oci-archive:none.tar")), HasSubstr("none.tar: no such file"));
  EXPECT_THAT(refusal(ref("docker-archive:none.tar")), HasSubstr("none.tar: no such file"));
  // A layout whose layer blob is gone.
  const fs::path oci = layout();
  const std::string layer = test::append_layer(oci, "v1", {{.path = "x", .data = "x"}});
  fs::remove(test::blob_path(oci, layer));
  EXPECT_THAT(refusal(ref("oci:oci:v1")),
              HasSubstr("layer " + layer + ": blob missing (blobs/sha256/" + layer.substr(7)));
}

TEST_F(ImageStoreTest, RefusesBlobsThatDoNotMatchTheirDigest) {
  const fs::path oci = layout();
  // An uncompressed layer changed in place, same size: the tar still reads, the digest fails.
  const std::string layer = test::append_layer(
      oci, "v1", {{.path = "etc/motd", .data = "original text"}}, LayerCompression::kNone);
  std::string blob = read(test::blob_path(oci, layer));
  blob.replace(blob.find("original"), 8, "tampered");
  std::ofstream(test::blob_path(oci, layer), std::ios::binary | std::ios::trunc) << blob;
  EXPECT_THAT(refusal(ref("oci:oci:v1")),
              HasSubstr(":v1: layer " + layer.substr(0, 19) + "..: digest mismatch (content is"));

  // A gzip layer with a flipped byte: reported as the digest mismatch it is.
  const fs::path oci2 = dir_.path() / "oci2";
  fs::copy(base_->path() / "oci", oci2, fs::copy_options::recursive);
  const std::string gz = test::append_layer(oci2, "v1", {{.path = "etc/motd", .data = "text"}});
  blob = read(test::blob_path(oci2, gz));
  blob[blob.size() / 2] = static_cast<char>(blob[blob.size() / 2] ^ 0x55);
  std::ofstream(test::blob_path(oci2, gz), std::ios::binary | std::ios::trunc) << blob;
  EXPECT_THAT(refusal(ref("oci:oci2:v1")),
              HasSubstr("layer " + gz.substr(0, 19) + "..: digest mismatch"));

  // The manifest itself.
  const std::string manifest = test::manifest_digest(oci2, "v1");
  blob = read(test::blob_path(oci2, manifest));
  blob[blob.find("schemaVersion")] = 'S';
  std::ofstream(test::blob_path(oci2, manifest), std::ios::binary | std::ios::trunc) << blob;
  EXPECT_THAT(refusal(ref("oci:oci2:v1")),
              HasSubstr(":v1: manifest " + manifest.substr(0, 19) + "..: digest mismatch"));
}

TEST_F(ImageStoreTest, RefusesTruncatedLayers) {
  const fs::path oci = layout();
  // A truncated blob: shorter than its descriptor says.
  const std::string layer = test::append_layer(oci, "v1", {{.path = "etc/motd", .data = "text"}});
  fs::resize_file(test::blob_path(oci, layer), fs::file_size(test::blob_path(oci, layer)) - 10);
  EXPECT_THAT(refusal(ref("oci:oci:v1")), HasSubstr("layer " + layer.substr(0, 19) + "..: size "));

  // A truncated tar whose digests were fixed up to match: the tar itself is refused.
  const fs::path oci2 = dir_.path() / "oci2";
  fs::copy(base_->path() / "oci", oci2, fs::copy_options::recursive);
  const std::string tar =
      test::make_tar({{.path = "big", .data = std::string(100000, 'x')}}, LayerCompression::kNone);
  const std::string cut = tar.substr(0, 20000);
  const std::string digest = test::append_raw_layer(oci2, "v1", cut, test::sha256_of(cut),
                                                    "application/vnd.oci.image.layer.v1.tar");
  const std::string error = refusal(ref("oci:oci2:v1"));
  EXPECT_THAT(error, HasSubstr("layer " + digest.substr(0, 19) + "..: entry \"big\": "));
  EXPECT_THAT(error, HasSubstr("runcated"));
}

TEST_F(ImageStoreTest, RefusesUnknownMediaTypesNamingThem) {
  const fs::path oci = layout();
  const std::string layer =
      test::append_layer(oci, "v1", {{.path = "x", .data = "x"}}, LayerCompression::kGzip,
                         "application/vnd.example.layer.v1.tar+lz4");
  EXPECT_EQ(refusal(ref("oci:oci:v1")),
            "oci:" + oci.string() + ":v1: layer " + layer.substr(0, 19) +
                "..: unknown media type \"application/vnd.example.layer.v1.tar+lz4\"");
}

TEST_F(ImageStoreTest, RefusesEntriesThatWouldWriteOutsideTheRoot) {
  const fs::path outside = dir_.path() / "outside";
  fs::create_directories(outside);
  struct Case {
    std::vector<TarEntry> entries;
    std::string error;
  };
  const std::vector<Case> cases = {
      {{{.path = "../escaped", .data = "x"}},
       "entry \"../escaped\": refused, '..' in the path (would write outside the root)"},
      {{{.path = "etc/../../escaped", .data = "x"}},
       "entry \"etc/../../escaped\": refused, '..' in the path"},
      {{{.path = (outside / "abs").string(), .data = "x"}},
       "entry \"" + (outside / "abs").string() + "\": refused, absolute path"},
      {{{.path = "evil", .type = TarEntry::Type::kSymlink, .data = outside.string()},
        {.path = "evil/through-symlink", .data = "x"}},
       "entry \"evil/through-symlink\": refused, its parent \"evil\" is or passes through a "
       "symbolic link"},
      {{{.path = "rel", .type = TarEntry::Type::kSymlink, .data = "../../../../../../.."},
        {.path = "rel/x/y", .data = "x"}},
       "entry \"rel/x/y\": refused, its parent \"rel/x\" is or passes through a symbolic link"},
      {{{.path = "hard", .type = TarEntry::Type::kHardLink, .data = "../../outside/secret"}},
       "entry \"hard\": refused, hard link to \"../../outside/secret\" ('..' in the path, "
       "outside the root)"},
      {{{.path = "hard", .type = TarEntry::Type::kHardLink, .data = (outside / "secret").string()}},
       "entry \"hard\": refused, hard link to \"" + (outside / "secret").string() +
           "\" (absolute path, outside the root)"},
      {{{.path = "evil", .type = TarEntry::Type::kSymlink, .data = outside.string()},
        {.path = "hard", .type = TarEntry::Type::kHardLink, .data = "evil/secret"}},
       "entry \"hard\": refused, hard link target \"evil/secret\" is not reachable inside the "
       "root without following a symlink"},
  };
  std::ofstream(outside / "secret") << "secret";
  int n = 0;
  for (const auto& c : cases) {
    const fs::path oci = dir_.path() / ("hostile" + std::to_string(n++));
    fs::copy(base_->path() / "oci", oci, fs::copy_options::recursive);
    const std::string layer = test::append_layer(oci, "v1", c.entries);
    const std::string error = refusal(parse_image_ref("oci:" + oci.string() + ":v1", "/"));
    EXPECT_THAT(error, HasSubstr(":v1: layer " + layer.substr(0, 19) + "..: " + c.error));
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "escaped"));
  EXPECT_FALSE(fs::exists(outside / "through-symlink"));
  EXPECT_FALSE(fs::exists(outside / "abs"));
  EXPECT_EQ(fs::hard_link_count(outside / "secret"), 1U);
}

TEST_F(ImageStoreTest, RefusesImagesOverTheSizeLimit) {
  (void)layout();
  ImageStore small(StoreOptions{.dir = dir_.path() / "images", .max_unpacked_bytes = 100000});
  EXPECT_THAT(refusal(small, dir_.path() / "images", ref("oci:oci:v1")),
              HasSubstr("the image unpacks to more than the limit of 100000 bytes"));
}

TEST_F(ImageStoreTest, ConcurrentEnsuresUnpackOnce) {
  (void)layout();
  std::vector<std::string> digests(4);
  std::vector<std::string> errors(4);
  {
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < digests.size(); ++i) {
      threads.emplace_back([&, i] {
        try {
          // One store object each, as separate processes would have.
          ImageStore store(StoreOptions{.dir = dir_.path() / "images"});
          digests[i] = store.ensure(ref("oci:oci:v1")).digest;
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
  }
  for (std::size_t i = 0; i < digests.size(); ++i) {
    EXPECT_EQ(errors[i], "");
    EXPECT_EQ(digests[i], digests[0]);
  }
  EXPECT_EQ(store_->list().size(), 1U);
}

TEST_F(ImageStoreTest, LeftoversOfACrashedUnpackAreNeverListedAndAreCleanedUp) {
  const fs::path oci = layout();
  const std::string digest = test::manifest_digest(oci, "v1");
  const fs::path images = dir_.path() / "images";
  const fs::path tmp = images / ("tmp-sha256-" + digest.substr(7));
  fs::create_directories(tmp / "rootfs/etc");
  std::ofstream(tmp / "rootfs/etc/half") << "half";
  EXPECT_TRUE(store_->list().empty());
  EXPECT_EQ(store_->prune({}), std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(tmp));

  fs::create_directories(tmp / "rootfs/etc");
  const StoredImage image = store_->ensure(ref("oci:oci:v1"));
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_FALSE(fs::exists(image.rootfs / "etc/half"));
}

TEST_F(ImageStoreTest, PruneLeavesLeasedAndKeptImagesAlone) {
  const fs::path oci = layout();
  const fs::path root2 = dir_.path() / "root2";
  test::make_busybox_root(root2);
  std::ofstream(root2 / "etc/second") << "v2\n";
  test::build_oci_image(root2, oci, "v2", kSpec);
  const StoredImage one = store_->ensure(ref("oci:oci:v1"));
  const StoredImage two = store_->ensure(ref("oci:oci:v2"));

  // Another store object: prune would run in another process (`ember image prune`).
  ImageStore pruner(StoreOptions{.dir = dir_.path() / "images"});
  {
    const ImageLease lease = store_->lease(one.digest);
    EXPECT_EQ(pruner.prune({two.digest}), std::vector<std::string>{});
    EXPECT_TRUE(fs::exists(one.rootfs / "etc/hello"));
    EXPECT_EQ(pruner.list().size(), 2U);
  }
  EXPECT_EQ(pruner.prune({two.digest}), std::vector<std::string>{one.digest});
  EXPECT_FALSE(fs::exists(one.rootfs));
  ASSERT_EQ(pruner.list().size(), 1U);
  EXPECT_EQ(pruner.list()[0].digest, two.digest);
  EXPECT_THROW((void)store_->lease(one.digest), ImageError);
  EXPECT_EQ(pruner.prune({}), std::vector<std::string>{two.digest});
  // And it can come back.
  EXPECT_TRUE(fs::exists(store_->ensure(ref("oci:oci:v1")).rootfs / "etc/hello"));
}

}  // namespace
}  // namespace ember::image
