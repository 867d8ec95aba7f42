// libarchive's error text for a failed call. archive_error_string() is NULL when libarchive
// set no message (some corrupt zips do): appending that NULL to a std::string crashed the
// node on a client's CreateFunction zip (found by tests/fuzz/zip_fuzz).
#pragma once

#include <archive.h>

#include <string>

namespace ember::image {

inline std::string archive_error(archive* a) {
  const char* text = archive_error_string(a);
  return text != nullptr ? std::string(text) : std::string("libarchive gave no reason");
}

}  // namespace ember::image
