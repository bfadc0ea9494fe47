// A test heap that forwards every object operation to a ReferenceHeap and
// lets a test watch (or disturb) what the runtime does with a heap:
// safepoints with the roots they show, collections, and injected
// violations. Owns nothing but the counters; the objects are the inner
// heap's. Not a collector: it never frees.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "heap/reference_heap.h"

namespace slabfuzz::test {

class ForwardingHeap : public Heap {
 public:
  explicit ForwardingHeap(const TypeStore& types) : Heap(types), inner_(types) {}

  Result<Ref, TrapKind> newStruct(CanonTypeId t, std::span<const Value> f) override {
    return inner_.newStruct(t, f);
  }
  Result<Ref, TrapKind> newArray(CanonTypeId t, uint32_t n, Value v) override {
    return inner_.newArray(t, n, v);
  }
  Result<Ref, TrapKind> newArrayFrom(CanonTypeId t, std::span<const Value> e) override {
    return inner_.newArrayFrom(t, e);
  }
  CanonTypeId typeOf(Ref o) const override { return inner_.typeOf(o); }
  Value structGet(Ref o, uint32_t f) const override {
    const_cast<ForwardingHeap*>(this)->onAccess(o);
    return inner_.structGet(o, f);
  }
  void structSet(Ref o, uint32_t f, Value v) override {
    onAccess(o);
    inner_.structSet(o, f, v);
  }
  uint32_t arrayLength(Ref o) const override { return inner_.arrayLength(o); }
  Value arrayGet(Ref o, uint32_t i) const override { return inner_.arrayGet(o, i); }
  void arraySet(Ref o, uint32_t i, Value v) override { inner_.arraySet(o, i, v); }
  void arrayFill(Ref o, uint32_t d, Value v, uint32_t n) override { inner_.arrayFill(o, d, v, n); }
  void arrayCopy(Ref d, uint32_t dd, Ref s, uint32_t ss, uint32_t n) override {
    inner_.arrayCopy(d, dd, s, ss, n);
  }
  HeapStats stats() const override { return inner_.stats(); }

  // Every safepoint: the roots it is shown, kept from the last one.
  void safepoint(RootSource& roots) override {
    ++safepoints;
    record(roots);
  }
  void collect(RootSource& roots) override {
    ++collections;
    record(roots);
  }

  // verify() fails with `v` from now on.
  void failVerify(HeapViolation v) {
    verify_failure_ = std::move(v);
    verify_fails_ = true;
  }
  bool verify(RootSource&) override {
    ++verifications;
    if (verify_fails_) report(verify_failure_);
    return !verify_fails_;
  }

  // Injects a violation at the next struct.get/struct.set on an object.
  void failNextStructAccess(HeapViolation v) { pending_ = std::move(v); fail_ = true; }

  size_t safepoints = 0;
  size_t collections = 0;
  size_t verifications = 0;
  size_t max_roots = 0;
  std::vector<Ref> last_roots;

 private:
  void record(RootSource& roots) {
    struct Collect : RootVisitor {
      std::vector<Ref>* out;
      void visit(Ref& r) override { out->push_back(r); }
    } c;
    c.out = &last_roots;
    last_roots.clear();
    roots.forEachRoot(c);
    max_roots = std::max(max_roots, last_roots.size());
  }
  void onAccess(Ref) {
    if (fail_) {
      fail_ = false;
      report(pending_);
    }
  }

  ReferenceHeap inner_;
  HeapViolation pending_;
  bool fail_ = false;
  HeapViolation verify_failure_;
  bool verify_fails_ = false;
};

}  // namespace slabfuzz::test
