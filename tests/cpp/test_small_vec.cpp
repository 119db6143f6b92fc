// core/small_vec.h: inline storage up to N, growth onto the heap, copies and moves in every
// inline/heap combination, and element lifetimes (each constructed element destroyed once).
#include <cstdint>
#include <string>
#include <utility>

#include "core/small_vec.h"
#include "tg_test.h"

using tapegrad::SmallVec;

namespace {

// Counts live objects, so that a leaked or doubly destroyed element shows.
struct Tracked {
  static int live;
  int v;
  Tracked(int x = 0) : v(x) { ++live; }  // implicit, like the int64_t elements
  Tracked(const Tracked& o) : v(o.v) { ++live; }
  Tracked(Tracked&& o) noexcept : v(o.v) {
    o.v = -1;  // moved-from
    ++live;
  }
  Tracked& operator=(const Tracked& o) = default;
  Tracked& operator=(Tracked&& o) noexcept {
    v = o.v;
    o.v = -1;
    return *this;
  }
  ~Tracked() { --live; }
  bool operator==(const Tracked& o) const { return v == o.v; }
};
int Tracked::live = 0;

template <class V>
bool is_inline(const V& v) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const auto* o = reinterpret_cast<const unsigned char*>(&v);
  return p >= o && p < o + sizeof(V);
}

template <class V>
bool holds_0_to(const V& v, int n) {
  if (int(v.size()) != n) return false;
  for (int i = 0; i < n; ++i)
    if (!(v[size_t(i)] == i)) return false;
  return true;
}

template <class V>
V iota(int n) {
  V v;
  for (int i = 0; i < n; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST(small_vec, starts_empty_and_inline) {
  SmallVec<int64_t, 4> v;
  CHECK(v.empty());
  CHECK_EQ(v.size(), size_t(0));
  CHECK(v.begin() == v.end());
  CHECK(is_inline(v));
}

TEST(small_vec, stays_inline_up_to_n_then_spills_to_the_heap) {
  SmallVec<int64_t, 4> v;
  for (int i = 0; i < 4; ++i) v.push_back(i);
  CHECK(is_inline(v));
  CHECK(holds_0_to(v, 4));
  v.push_back(4);
  CHECK(!is_inline(v));
  CHECK(holds_0_to(v, 5));
  for (int i = 5; i < 1000; ++i) v.push_back(i);  // many doublings
  CHECK(holds_0_to(v, 1000));
  CHECK_EQ(v.back(), int64_t(999));
}

TEST(small_vec, constructors) {
  SmallVec<int64_t, 3> a{1, 2, 3, 4};
  CHECK_EQ(a.size(), size_t(4));
  CHECK_EQ(a[3], int64_t(4));
  SmallVec<int64_t, 3> b(5, 7);  // n copies of a value, not an iterator range
  CHECK_EQ(b.size(), size_t(5));
  CHECK_EQ(b[4], int64_t(7));
  const int64_t raw[] = {9, 8, 7};
  SmallVec<int64_t, 3> c(raw, raw + 3);
  CHECK(is_inline(c));
  CHECK_EQ(c[0], int64_t(9));
  CHECK_EQ(c[2], int64_t(7));
  SmallVec<int64_t, 3> d(size_t(0));
  CHECK(d.empty());
}

TEST(small_vec, copies_are_deep_inline_and_on_the_heap) {
  for (int n : {2, 9}) {
    auto a = iota<SmallVec<int64_t, 4>>(n);
    SmallVec<int64_t, 4> b(a);
    CHECK(holds_0_to(b, n));
    CHECK(b.data() != a.data());
    CHECK_EQ(is_inline(b), n <= 4);
    b[0] = 100;
    CHECK_EQ(a[0], int64_t(0));
    CHECK(a != b);
    b[0] = 0;
    CHECK(a == b);
  }
}

TEST(small_vec, copy_assignment_every_way) {
  for (int from : {0, 3, 10}) {
    for (int to : {0, 3, 10}) {
      auto src = iota<SmallVec<int64_t, 4>>(from);
      auto dst = iota<SmallVec<int64_t, 4>>(to);
      dst = src;
      CHECK(holds_0_to(dst, from));
      CHECK(holds_0_to(src, from));
    }
  }
  auto v = iota<SmallVec<int64_t, 4>>(7);
  auto& alias = v;
  v = alias;  // self-assignment keeps the contents
  CHECK(holds_0_to(v, 7));
}

TEST(small_vec, moves_steal_the_heap_block_and_leave_an_empty_usable_source) {
  auto a = iota<SmallVec<int64_t, 4>>(10);
  const int64_t* block = a.data();
  SmallVec<int64_t, 4> b(std::move(a));
  CHECK(b.data() == block);  // no copy
  CHECK(holds_0_to(b, 10));
  CHECK(a.empty());  // the moved-from state is specified: empty
  CHECK(is_inline(a));
  a.push_back(5);
  CHECK_EQ(a.size(), size_t(1));
  CHECK_EQ(a[0], int64_t(5));

  auto c = iota<SmallVec<int64_t, 4>>(3);  // inline: elements move one by one
  SmallVec<int64_t, 4> d(std::move(c));
  CHECK(holds_0_to(d, 3));
  CHECK(is_inline(d));
  CHECK(c.empty());
}

TEST(small_vec, move_assignment_every_way) {
  for (int from : {0, 3, 10}) {
    for (int to : {0, 3, 10}) {
      auto src = iota<SmallVec<int64_t, 4>>(from);
      auto dst = iota<SmallVec<int64_t, 4>>(to);
      dst = std::move(src);
      CHECK(holds_0_to(dst, from));
      CHECK(src.empty());
    }
  }
  auto v = iota<SmallVec<int64_t, 4>>(7);
  auto& alias = v;
  v = std::move(alias);  // self-move keeps the contents
  CHECK(holds_0_to(v, 7));
}

TEST(small_vec, insert_erase_resize_pop_clear) {
  SmallVec<int64_t, 4> v{0, 1, 3};
  v.insert(2, 2);
  CHECK(holds_0_to(v, 4));
  v.insert(0, -1);  // spills to the heap
  CHECK_EQ(v[0], int64_t(-1));
  v.erase(0);
  CHECK(holds_0_to(v, 4));
  v.insert(4, 4);  // at the end
  CHECK(holds_0_to(v, 5));
  v.resize(2);
  CHECK(holds_0_to(v, 2));
  v.resize(4, 9);
  CHECK_EQ(v[3], int64_t(9));
  v.pop_back();
  CHECK_EQ(v.size(), size_t(3));
  v.clear();
  CHECK(v.empty());
  v.reserve(100);  // reserving keeps it empty
  CHECK(v.empty());
  v.emplace_back(3);
  CHECK_EQ(v[0], int64_t(3));
}

TEST(small_vec, pushing_an_own_element_while_growing) {
  // The argument refers into the buffer that growth frees: push_back and emplace_back must read
  // it before the move to the larger buffer.
  auto v = iota<SmallVec<int64_t, 4>>(4);
  v.push_back(v[1]);
  CHECK_EQ(v[4], int64_t(1));
  auto w = iota<SmallVec<int64_t, 4>>(4);
  w.emplace_back(w[2]);
  CHECK_EQ(w[4], int64_t(2));
  auto h = iota<SmallVec<int64_t, 4>>(8);  // on the heap, full: growth frees the old block
  h.emplace_back(h[3]);
  h.push_back(std::move(h[5]));
  for (int i = 10; i < 16; ++i) h.push_back(h[0]);  // h[10..15], full at 16
  h.emplace_back(h[7]);
  CHECK_EQ(h[8], int64_t(3));
  CHECK_EQ(h[9], int64_t(5));
  CHECK_EQ(h[16], int64_t(7));
  CHECK_EQ(h.size(), size_t(17));
  SmallVec<std::string, 2> s{"a", "b"};
  s.push_back(std::move(s[0]));
  CHECK_EQ(s[2], std::string("a"));
}

TEST(small_vec, every_element_is_destroyed_once) {
  Tracked::live = 0;
  {
    SmallVec<Tracked, 3> a;
    for (int i = 0; i < 3; ++i) a.emplace_back(i);
    CHECK_EQ(Tracked::live, 3);
    a.push_back(Tracked(3));  // growth moves the inline elements
    CHECK_EQ(Tracked::live, 4);
    SmallVec<Tracked, 3> b(a);
    CHECK_EQ(Tracked::live, 8);
    SmallVec<Tracked, 3> c(std::move(b));  // steals the block: no new elements
    CHECK_EQ(Tracked::live, 8);
    CHECK(holds_0_to(c, 4));
    SmallVec<Tracked, 3> d{7, 8};
    d = c;  // inline <- heap
    CHECK(holds_0_to(d, 4));
    SmallVec<Tracked, 3> e{1};
    e = std::move(d);  // e's element destroyed, d's block taken
    CHECK(holds_0_to(e, 4));
    e.erase(1);
    e.insert(1, Tracked(1));
    CHECK(holds_0_to(e, 4));
    e.resize(10);
    e.resize(1);
    SmallVec<Tracked, 3> f{5, 6};
    SmallVec<Tracked, 3> g(std::move(f));  // inline move: element by element
    CHECK_EQ(g[1].v, 6);
    CHECK_EQ(Tracked::live, 4 + 4 + 1 + 2);  // a, c, e, g
  }
  CHECK_EQ(Tracked::live, 0);
}
