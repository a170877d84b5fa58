// Replay driver: a main() for fuzz targets built without libFuzzer (any compiler). Runs every
// file given, or every file in every directory given, through LLVMFuzzerTestOneInput once, so
// ctest replays the seed corpus and every regression input under the sanitizers. When the target
// has a custom mutator it is exercised too, a few rounds per input, so it cannot rot unseen.
#include "mutator.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) __attribute__((weak));

namespace {
std::mt19937 byte_rng(12345);  // deterministic: a replay run is a reproducible test
}

// Stands in for libFuzzer's LLVMFuzzerMutate, which the custom mutators call.
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size) {
  return mqttspec::fuzz::basic_byte_mutate(byte_rng, data, size, max_size);
}

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run_one(const std::filesystem::path& p) {
  auto data = read_file(p);
  // A heap copy of exactly the input's size, so ASan catches reads one past the end.
  std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[data.size()]);
  std::copy(data.begin(), data.end(), copy.get());
  LLVMFuzzerTestOneInput(copy.get(), data.size());
  if (LLVMFuzzerCustomMutator) {
    constexpr std::size_t max_size = 4096;
    std::vector<std::uint8_t> buf(data);
    buf.resize(std::max(max_size, data.size()));
    std::size_t size = data.size();
    for (unsigned round = 0; round < 2; ++round) {
      size = LLVMFuzzerCustomMutator(buf.data(), size, buf.size(), round);
      std::unique_ptr<std::uint8_t[]> mutant(new std::uint8_t[size]);
      std::copy(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(size), mutant.get());
      LLVMFuzzerTestOneInput(mutant.get(), size);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        std::fprintf(stderr, "replay %s\n", f.c_str());
        run_one(f);
        ++count;
      }
    } else if (std::filesystem::exists(arg)) {
      run_one(arg);
      ++count;
    }
  }
  std::printf("replayed %zu inputs\n", count);
  return 0;
}
