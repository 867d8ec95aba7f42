#include "init_protocol.hpp"

#include <gtest/gtest.h>

namespace ember::isolation::init {
namespace {

TEST(InitProtocol, ConfigSurvivesTheRoundTrip) {
  InitConfig config;
  config.root = "/run/ember/root";
  config.code_dir = "/srv/fn";
  config.runtime_dir = "/srv/runtimes";
  config.image_root = "/var/lib/ember/images/sha256-ab/rootfs";
  config.mounts = {{"/srv/buckets/images", "/mnt/images", true},
                   {"/srv/buckets/thumbs", "/mnt/out/thumbs", false}};
  config.tmp_mb = 10240;
  config.uid = 1000;
  config.gid = 1001;
  config.hostname = "sandbox";
  config.opt_layers = {"/srv/layers/first", "/srv/layers/second"};
  config.seccomp = {{0x20, 0, 0, 4}, {0x6, 0, 0, 0x7fff0000}};
  const auto decoded = decode_config(encode(config));
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->argv.empty());  // travels in the Launch
  EXPECT_EQ(decoded->root, config.root);
  EXPECT_EQ(decoded->code_dir, config.code_dir);
  EXPECT_EQ(decoded->runtime_dir, config.runtime_dir);
  EXPECT_EQ(decoded->image_root, config.image_root);
  ASSERT_EQ(decoded->mounts.size(), 2U);
  EXPECT_EQ(decoded->mounts[0].source, "/srv/buckets/images");
  EXPECT_EQ(decoded->mounts[0].target, "/mnt/images");
  EXPECT_TRUE(decoded->mounts[0].read_only);
  EXPECT_EQ(decoded->mounts[1].target, "/mnt/out/thumbs");
  EXPECT_FALSE(decoded->mounts[1].read_only);
  EXPECT_EQ(decoded->hostname, config.hostname);
  EXPECT_EQ(decoded->opt_layers, config.opt_layers);  // in order: the last one on top
  EXPECT_EQ(decoded->tmp_mb, 10240u);
  EXPECT_EQ(decoded->uid, 1000u);
  EXPECT_EQ(decoded->gid, 1001u);
  ASSERT_EQ(decoded->seccomp.size(), 2u);
  EXPECT_EQ(decoded->seccomp[1].k, 0x7fff0000u);
}

TEST(InitProtocol, NoLayersMeansNoOpt) {
  InitConfig config;
  config.root = "/run/ember/root";
  const auto decoded = decode_config(encode(config));
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->opt_layers.empty());
}

TEST(InitProtocol, LaunchSurvivesTheRoundTrip) {
  const Launch launch{{"/var/task/bootstrap", "with space", ""}, {"A=1", "B="}, "/var/task"};
  const auto decoded = decode_launch(encode(launch));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->argv, launch.argv);
  EXPECT_EQ(decoded->env, launch.env);
  EXPECT_EQ(decoded->working_dir, launch.working_dir);
  EXPECT_FALSE(decode_config(encode(launch)));  // a Launch is not a config
}

TEST(InitProtocol, TruncatedMessagesAreRejected) {
  InitConfig config;
  config.root = "/run/ember/root";
  const auto message = encode(config);
  EXPECT_FALSE(decode_config(message.substr(0, message.size() - 1)));
  EXPECT_FALSE(decode_config(""));  // no root
  const auto launch = encode(Launch{{"/x"}, {}, "/"});
  EXPECT_FALSE(decode_launch(launch.substr(0, launch.size() - 1)));
  EXPECT_FALSE(decode_launch(""));  // no argv
}

TEST(InitProtocol, RepliesSurviveTheRoundTrip) {
  const auto prepared = decode_reply(encode(Prepared{42}));
  ASSERT_TRUE(prepared && prepared->prepared);
  EXPECT_EQ(prepared->prepared->mounts_done_ns, 42);
  const auto ready = decode_reply(encode(Ready{1, 2, 3}));
  ASSERT_TRUE(ready && ready->ready);
  EXPECT_EQ(ready->ready->exec_done_ns, 3);
  const auto failed = decode_reply(encode(StepFailed{2, "mount /tmp", "mount -t tmpfs x"}));
  ASSERT_TRUE(failed && failed->failed);
  EXPECT_EQ(failed->failed->err, 2);
  EXPECT_EQ(failed->failed->step, "mount /tmp");
  EXPECT_EQ(failed->failed->call, "mount -t tmpfs x");
  const auto exited = decode_reply(encode(WorkerExited{true, 9}));
  ASSERT_TRUE(exited && exited->exited);
  EXPECT_TRUE(exited->exited->signaled);
  EXPECT_EQ(exited->exited->value, 9);
}

}  // namespace
}  // namespace ember::isolation::init
