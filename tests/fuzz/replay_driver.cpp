// A small stand-in for libFuzzer, so the fuzz targets run under gcc and in CI: it replays a seed
// corpus (built in, plus files given on the command line) and then runs randomly mutated inputs
// until an iteration count or a time budget is spent. A target aborts on a broken invariant.
//
//   fuzz_parser_replay [--iterations N] [--seconds S] [--seed X] [files...]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

const char* const kSeeds[] = {
    "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET /a%20b?x=1&y HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n",
    "GET / HTTP/1.0\r\n\r\n",
    "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\nhello",
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;e=1\r\n world\r\n0\r\nT: 1\r\n\r\n",
    "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
    "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
};

const char* const kTokens[] = {
    "\r\n", "\r", "\n", " ", "\t", ":", ",", ";", "\0", "\x7f", "\xff", "HTTP/1.1", "HTTP/1.0",
    "HTTP/2.0", "Host: h\r\n", "Content-Length: ", "Transfer-Encoding: chunked\r\n", "chunked",
    "0\r\n\r\n", "ffffffffffffffff", "Connection: close\r\n", "GET ", "POST ", "CONNECT ", "?",
    "/", "*", "http://", "\r\n\r\n", "0", "9", "-", "a",
};

std::string mutate(const std::string& base, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  std::string s = base;
  int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    std::size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 7) {
      case 0:  // flip a byte
        if (!s.empty()) s[pos % s.size()] = static_cast<char>(rng());
        break;
      case 1:  // delete a range
        if (!s.empty()) s.erase(pos % s.size(), 1 + rng() % 8);
        break;
      case 2: {  // insert a token
        const char* t = kTokens[rng() % (sizeof kTokens / sizeof *kTokens)];
        std::size_t len = t[0] == '\0' ? 1 : std::strlen(t);
        s.insert(pos, t, len);
        break;
      }
      case 3:  // duplicate a range
        if (!s.empty()) {
          std::size_t from = rng() % s.size();
          s.insert(pos, s.substr(from, 1 + rng() % 32));
        }
        break;
      case 4: {  // splice with another seed
        const std::string& other = corpus[rng() % corpus.size()];
        s = s.substr(0, pos) + other.substr(rng() % (other.size() + 1));
        break;
      }
      case 5:  // repeat a byte many times (limits)
        s.insert(pos, 1 + rng() % 300, s.empty() ? 'a' : s[rng() % s.size()]);
        break;
      default:  // change the control byte(s) at the front
        if (!s.empty()) s[0] = static_cast<char>(rng());
        break;
    }
    if (s.size() > 4096) s.resize(4096);
  }
  return s;
}

void run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

}  // namespace

int main(int argc, char** argv) {
  long iterations = 100000;
  double seconds = 10;
  std::uint64_t seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc) iterations = std::atol(argv[++i]);
    else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::ifstream f(a, std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
  }
  // Seeds get two control bytes in front (limits and split choices of the targets).
  for (const char* s : kSeeds)
    for (const char* prefix : {"\x00\x00", "\x01\x07", "\x02\x33"}) corpus.push_back(std::string(prefix, 2) + s);
  for (const std::string& s : corpus) run(s);

  std::mt19937_64 rng(seed);
  const auto start = std::chrono::steady_clock::now();
  long done = 0;
  for (; done < iterations; ++done) {
    if ((done & 255) == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > seconds)
      break;
    std::string input = mutate(corpus[rng() % corpus.size()], corpus, rng);
    run(input);
    // Inputs that parse far enough become seeds, a crude stand-in for coverage feedback.
    if ((rng() % 64) == 0 && corpus.size() < 4096) corpus.push_back(input);
  }
  std::printf("%ld mutated inputs, %zu seeds: no invariant broken\n", done, corpus.size());
  return 0;
}
