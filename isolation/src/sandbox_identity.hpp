// The /etc/passwd and /etc/group a code sandbox sees: root and the sandbox's user (Lambda's
// sbx_user1051), and the group it shares with other sandboxes when it has one of its own
// (NativeOptions::ids). Header-only: ember-sandbox-init (native) and the OCI backend both
// write them.
#pragma once

#include <cstdint>
#include <string>

namespace ember::isolation {

inline std::string sandbox_passwd(std::uint32_t uid, std::uint32_t gid) {
  return "root:x:0:0:root:/root:/usr/sbin/nologin\nsbx_user1051:x:" + std::to_string(uid) + ":" +
         std::to_string(gid) + "::/tmp:/usr/sbin/nologin\n";
}

inline std::string sandbox_group(std::uint32_t gid, std::uint32_t group) {
  std::string text = "root:x:0:\nsbx_user1051:x:" + std::to_string(gid) + ":\n";
  if (group != gid) text += "sbx_shared:x:" + std::to_string(group) + ":sbx_user1051\n";
  return text;
}

}  // namespace ember::isolation
