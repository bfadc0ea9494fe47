// The interpreter: runs compiled slot IR (compile.h); see exec.h.
//
// Design: one dispatch loop with computed goto over 16-byte IR instructions;
// values live in one flat slot stack shared by every frame (a callee's
// frame starts at its caller's argument slots, so arguments and results
// are never copied); wasm calls push an explicit Frame and never recurse
// natively, so call depth is bounded by RunLimits::max_call_depth alone.
// Host functions run natively and may re-enter `invoke` (bounded too).
// Traps and out-of-fuel unwind the frames pushed by the current invoke.
// Fuel is charged per basic block, cheaply: every call costs 1 and every
// backward jump costs the number of IR instructions it jumps back over, so
// every loop iteration and every call pays and no run is unbounded.
// Safepoints call Heap::safepoint with this executor as the RootSource: at
// function entry (the arguments are then the callee's reference locals), at
// each allocation (its operands still in their slots) and on entering the
// host (the host's arguments included). A heap that does not collect
// (Heap::collects) is not called at the first two.
// After every heap call that can find a violation (an id that does not
// resolve, a broken invariant), the loop checks Heap::violation() and stops
// the run with Outcome::Kind::Violation, naming the instruction.
#include "runtime/exec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <pthread.h>

#include "heap/faults.h"
#include "runtime/compile.h"
#include "runtime/numeric.h"
#include "runtime/storage_bytes.h"

namespace slabfuzz {

namespace {

// Slot stack cap (values): a frame stack deeper than this is call-stack
// exhaustion, whatever max_call_depth says. 16 Mi slots = 128 MiB.
constexpr size_t kMaxSlots = size_t{16} << 20;
// Nested entries into wasm from the host (host -> Executor::invoke -> run):
// each costs a few native frames, so this bounds native stack use. Counted
// once per entry, in invoke. Binaryen's translate-to-fuzz modules guard their
// own host recursion at depth 100, so the cap must stay above that; 250
// levels use well under 1 MiB of native stack even in ASan builds
// (ExecCalls.HostFunctionsAndReentry).
constexpr uint32_t kMaxReentry = 250;

// The native stack address below which a nested entry from the host traps
// as call-stack exhaustion instead of running: a second guard beside
// kMaxReentry for builds whose frames are far bigger than the dev build's
// (an unoptimised ASan build spends about 100 KiB per entry), so that no
// build overflows the native stack. A quarter of the thread's stack (at
// least 512 KiB) is kept for the deepest entry's own frames. Computed once
// per thread: reading the main thread's stack bounds parses
// /proc/self/maps.
uintptr_t nativeStackFloor() {
  thread_local uintptr_t floor = 0;
  if (floor != 0) return floor;
  auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  uintptr_t low = here > (uintptr_t{4} << 20) ? here - (uintptr_t{4} << 20) : 0;
  size_t size = uintptr_t{4} << 20;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr = nullptr;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr != nullptr)
      low = reinterpret_cast<uintptr_t>(addr);
    pthread_attr_destroy(&attr);
  }
  floor = low + std::max<size_t>(size / 4, size_t{512} << 10);
  return floor;
}
// Frame::pc while a callee's entry safepoint runs: not an IR index, so the
// root scan uses the function's entry map (its arguments), whatever the
// first instruction is.
constexpr uint32_t kEntryPc = UINT32_MAX;

template <typename T>
inline T rd(Value v) {
  if constexpr (std::is_same_v<T, uint32_t>) return v.u32();
  else if constexpr (std::is_same_v<T, int32_t>) return v.i32();
  else if constexpr (std::is_same_v<T, uint64_t>) return v.u64();
  else if constexpr (std::is_same_v<T, int64_t>) return v.i64();
  else if constexpr (std::is_same_v<T, float>) return v.f32();
  else if constexpr (std::is_same_v<T, double>) return v.f64();
  else if constexpr (std::is_same_v<T, int8_t>) return static_cast<int8_t>(v.u32());
  else if constexpr (std::is_same_v<T, int16_t>) return static_cast<int16_t>(v.u32());
}
template <typename T>
inline Value wr(T x) {
  if constexpr (std::is_same_v<T, bool>) return Value::i32(x ? 1 : 0);
  else if constexpr (std::is_same_v<T, uint32_t> || std::is_same_v<T, int32_t>)
    return Value::i32(static_cast<int32_t>(x));
  else if constexpr (std::is_same_v<T, uint64_t> || std::is_same_v<T, int64_t>)
    return Value::i64(static_cast<int64_t>(x));
  else if constexpr (std::is_same_v<T, float>) return Value::f32(x);
  else if constexpr (std::is_same_v<T, double>) return Value::f64(x);
}

// Reads one element of storage type size `z` (little endian), zero-extended.
Value readElem(const uint8_t* p, uint32_t z) {
  uint64_t v = 0;
  std::memcpy(&v, p, z);
  return Value::fromBits(v);
}

}  // namespace

struct Executor::Impl : RootSource {
  struct Frame {
    const CompiledFunction* fn = nullptr;
    Instance* inst = nullptr;
    uint32_t pc = 0;  // IR index of the current (or calling) instruction
    size_t fp = 0;    // first slot of the frame in `stack`
  };

  Impl(Executor& owner, Store& store, const RunLimits& limits)
      : exec(owner), store(store), limits(limits) {
    fuel = limits.fuel == 0 ? INT64_MAX : static_cast<int64_t>(std::min<uint64_t>(limits.fuel, INT64_MAX));
    stack.resize(512);  // grows by doubling (ensureStack); most runs stay small
  }

  Executor& exec;
  Store& store;
  const RunLimits& limits;
  std::vector<Value> stack;
  std::vector<Frame> frames;
  int64_t fuel = 0;
  uint64_t fuel_charged = 0;
  // Collections and verifications cost fuel for the work they did
  // (HeapStats::gc_work), one unit per kGcWorkPerFuel: a loop that collects
  // at every turn (zeal, or a host `gc` call) over a large heap must end out
  // of fuel like any other long loop, not run for minutes. chargeGc()
  // returns false when the fuel has run out.
  static constexpr uint64_t kGcWorkPerFuel = 16;
  uint64_t gc_work_charged = 0;
  bool chargeGc() {
    uint64_t work = store.heap->stats().gc_work;
    uint64_t units = (work - gc_work_charged) / kGcWorkPerFuel;
    if (units > 0) {
      gc_work_charged += units * kGcWorkPerFuel;
      fuel -= static_cast<int64_t>(std::min<uint64_t>(units, INT64_MAX / 2));
      fuel_charged += units;
    }
    return fuel >= 0;
  }
  uint32_t reentry = 0;
  // Arguments of a host call in progress (for the root enumeration).
  size_t host_args_at = 0;
  CanonTypeId host_args_type = kNoCanonType;

  // The frame scan's cache: the root slots (stack indices) of the bottom
  // `clean_frames` frames as the last scan found them. A frame below the
  // top is suspended at a call, and nothing writes its slots or moves its pc
  // until it is the top again, which only a pop makes it; every pop and
  // truncation of `frames` goes through framesShrunk, which drops the
  // frames that may have changed. A zeal run collects hundreds of times per
  // export over dozens of suspended frames, most of them holding no
  // reference at their call, so their maps are read once, not every time.
  // Checking builds (level 2) compare the cache with a full scan each time.
  size_t clean_frames = 0;
  std::vector<uint32_t> clean_slots;  // frame by frame, in frame order
  std::vector<uint32_t> clean_ends;   // per clean frame: its end in clean_slots
  std::vector<uint32_t> top_slots;    // the top frame's, rebuilt every scan

  void framesShrunk() {
    size_t keep = frames.empty() ? 0 : frames.size() - 1;
    if (clean_frames <= keep) return;
    clean_frames = keep;
    clean_ends.resize(keep);
    clean_slots.resize(keep ? clean_ends.back() : 0);
  }
  void popFrame() {
    frames.pop_back();
    framesShrunk();
  }
  void truncateFrames(size_t n) {
    frames.resize(n);
    framesShrunk();
  }
  // Every root slot of frames [from, to), in order, by stack map.
  template <typename F>
  void scanFrames(size_t from, size_t to, F&& f) const {
    for (size_t i = from; i < to; ++i) {
      const Frame& fr = frames[i];
      fr.fn->maps.forEachSlot(fr.pc, limits.stack_maps,
                              [&](uint32_t s) { f(i, static_cast<uint32_t>(fr.fp + s)); });
    }
  }
  // A pop that skipped framesShrunk: `what` got `got` where `want` holds.
  [[noreturn]] void frameCacheBug(const char* what, size_t got, size_t want) const {
    std::fprintf(stderr,
                 "slabfuzz: exec: the frame scan's cache has %s %zu where %zu is right (%zu "
                 "frames, %zu clean): a pop that skipped framesShrunk\n",
                 what, got, want, frames.size(), clean_frames);
    std::abort();
  }
  void visitSlot(RootVisitor& visitor, uint32_t at) {
    Value& v = stack[at];
    Ref r = v.ref();
    visitor.visit(r);
    v = Value::ref(r);
  }

  // RootSource: every reference slot of every active frame, by stack map,
  // the arguments of a host call being entered, and the store's roots.
  void forEachRoot(RootVisitor& visitor) override {
    const size_t top = frames.size();
    const size_t below_top = top ? top - 1 : 0;
    if (clean_frames > below_top) frameCacheBug("clean frames", clean_frames, below_top);
    top_slots.clear();
    scanFrames(clean_frames, top, [&](size_t frame, uint32_t at) {
      if (frame == below_top) {
        top_slots.push_back(at);
        return;
      }
      while (clean_ends.size() < frame) clean_ends.push_back(static_cast<uint32_t>(clean_slots.size()));
      clean_slots.push_back(at);
    });
    while (clean_ends.size() < below_top) clean_ends.push_back(static_cast<uint32_t>(clean_slots.size()));
    clean_frames = below_top;
    if constexpr (SLABFUZZ_CHECKING >= 2) {
      std::vector<uint32_t> full;
      scanFrames(0, top, [&](size_t, uint32_t at) { full.push_back(at); });
      if (full.size() != clean_slots.size() + top_slots.size() ||
          !std::equal(clean_slots.begin(), clean_slots.end(), full.begin()) ||
          !std::equal(top_slots.begin(), top_slots.end(), full.begin() + static_cast<ptrdiff_t>(clean_slots.size())))
        frameCacheBug("root slots", clean_slots.size() + top_slots.size(), full.size());
    }
    for (uint32_t at : clean_slots) visitSlot(visitor, at);
    for (uint32_t at : top_slots) visitSlot(visitor, at);
    if (host_args_type != kNoCanonType) {
      std::span<const ValType> params = store.types.params(host_args_type);
      for (size_t i = 0; i < params.size(); ++i) {
        if (!params[i].isRef()) continue;
        Value& v = stack[host_args_at + i];
        Ref r = v.ref();
        visitor.visit(r);
        v = Value::ref(r);
      }
    }
    store.forEachRoot(visitor);
  }

  // "func $name (index), IR pc op": where a violation was found.
  std::string siteOf(const Frame& f) const {
    const CompiledModule& code = *f.inst->code;
    uint32_t index = static_cast<uint32_t>(f.fn - code.funcs.data()) + code.num_imported_funcs;
    const FuncInst& fi = store.funcs[f.inst->funcs[index]];
    // Named: "func $f (3)"; unnamed functions are called "func 3" already.
    std::string where = fi.name.starts_with('$') ? fmt::format("func {} ({})", fi.name, index)
                                                 : fmt::format("func {}", index);
    if (f.pc == kEntryPc || f.pc >= f.fn->code.size()) return where + ", entry";
    return fmt::format("{}, IR {} {}", where, f.pc, irOpName(f.fn->code[f.pc].op));
  }
  // Stops at a heap violation: names the site (unless an inner run, called
  // from a host function, already did) and unwinds this run's frames.
  Outcome violationOutcome(size_t entry_frames) {
    const HeapViolation* v = store.heap->violation();
    if (v->site.empty() && frames.size() > entry_frames) store.heap->setViolationSite(siteOf(frames.back()));
    truncateFrames(entry_frames);
    return Outcome::violated(*store.heap->violation());
  }

  // First free slot above every active frame.
  size_t stackTop() const {
    if (frames.empty()) return 0;
    return frames.back().fp + frames.back().fn->frame_size;
  }
  bool ensureStack(size_t needed) {
    if (needed <= stack.size()) return true;
    if (needed > kMaxSlots) return false;
    stack.resize(std::min(kMaxSlots, std::max(needed, stack.size() * 2)));
    return true;
  }

  Outcome invoke(FuncAddr addr, std::span<const Value> args);
  Outcome callHost(const FuncInst& f, size_t args_at, size_t results_at);
  // callHost for the dispatch loop (which may hold no objects with
  // destructors across its indirect gotos).
  Outcome::Kind callHostStep(const FuncInst& f, size_t args_at, size_t results_at,
                             TrapKind& trap, std::string& detail) {
    Outcome o = callHost(f, args_at, results_at);
    trap = o.trap;
    detail = std::move(o.detail);
    return o.kind;
  }
  std::vector<Value> scratch;  // operands built by GC instructions
  bool heap_collects = true;   // store.heap->collects(), read by run()
  Outcome run(size_t entry_frames);
  bool refMatches(Ref r, uint32_t ht_bits, bool nullable) const;
  bool refMatchesSlow(Ref r, uint32_t ht_bits, bool nullable) const;
  bool refMatchesFaulty(Ref r, uint32_t ht_bits, bool nullable) const;  // fault zoo
  bool sameShape(CanonTypeId a, CanonTypeId b) const;                    // fault zoo
};

// Out of line (inlining it grows the dispatch loop and costs the numeric
// handlers registers); the common case, an object against a type index,
// first and short.
[[gnu::noinline]] bool Executor::Impl::refMatches(Ref r, uint32_t ht_bits, bool nullable) const {
  if constexpr (kFaultsBuilt) {
    Fault f = activeFault();
    if (f == Fault::RefTestI31Null || f == Fault::CastIgnoresRecGroup || f == Fault::CastRejectsSubtype) {
      return refMatchesFaulty(r, ht_bits, nullable);
    }
  }
  HeapType ht = HeapType::fromBits(ht_bits);
  if (r.isObject() && ht.isIndex()) {
    CanonTypeId t = store.heap->typeOf(r);
    return t == ht.index() || store.types.isSubtype(t, ht.index());
  }
  return refMatchesSlow(r, ht_bits, nullable);
}

// The static type of the struct access at IR index `at` (fault zoo builds).
static CanonTypeId staticStructType(const CompiledFunction* fn, ptrdiff_t at) {
  const auto& types = fn->struct_access_types;
  return static_cast<size_t>(at) < types.size() ? types[static_cast<size_t>(at)] : kNoCanonType;
}

// Fault zoo (heap/faults.def): the cast faults, around the correct
// answer so that "triggered" counts the answers they changed.
bool Executor::Impl::refMatchesFaulty(Ref r, uint32_t ht_bits, bool nullable) const {
  HeapType ht = HeapType::fromBits(ht_bits);
  const bool correct = r.isObject() && ht.isIndex()
                           ? store.types.isSubtype(store.heap->typeOf(r), ht.index())
                           : refMatchesSlow(r, ht_bits, nullable);
  bool answer = correct;
  if ((r.isNull() || r.isI31()) && SLABFUZZ_FAULT(RefTestI31Null)) {
    // The null-or-i31 fast path reuses the wrong test: null never matches,
    // an i31 matches anything in the eq hierarchy, defined types included.
    if (r.isNull()) {
      answer = false;
    } else if (ht.isIndex()) {
      answer = store.types.kind(ht.index()) != CompositeKind::Func;
    } else {
      HeapType::Abstract k = ht.abstractKind();
      answer = k == HeapType::Any || k == HeapType::Eq || k == HeapType::I31 ||
               k == HeapType::Struct || k == HeapType::Array;
    }
  }
  if (!correct && r.isObject() && ht.isIndex() && SLABFUZZ_FAULT(CastIgnoresRecGroup)) {
    // Type equivalence by shape alone: any supertype of the object's type
    // with the target's kind and field types (defined types compared only
    // as "some defined type") passes, whatever rec group either is in.
    for (CanonTypeId t = store.heap->typeOf(r); t != kNoCanonType; t = store.types.supertype(t)) {
      if (sameShape(t, ht.index())) {
        answer = true;
        break;
      }
    }
  }
  if (correct && r.isObject() && ht.isIndex() && store.heap->typeOf(r) != ht.index() &&
      SLABFUZZ_FAULT(CastRejectsSubtype)) {
    // Only the exact type passes: an upcast from a proper subtype fails.
    answer = false;
  }
  if (answer != correct) {
    faults::noteTriggered(activeFault());
  }
  return answer;
}

bool Executor::Impl::sameShape(CanonTypeId a, CanonTypeId b) const {
  const TypeStore& ts = store.types;
  if (ts.kind(a) != ts.kind(b) || ts.kind(a) == CompositeKind::Func) return false;
  std::span<const FieldType> fa = ts.fields(a), fb = ts.fields(b);
  if (fa.size() != fb.size()) return false;
  for (size_t i = 0; i < fa.size(); ++i) {
    ValType x = fa[i].type, y = fb[i].type;
    if (fa[i].mut != fb[i].mut) return false;
    if (x.isRef() && y.isRef()) {
      HeapType hx = x.heapType(), hy = y.heapType();
      if (x.nullable() != y.nullable() || hx.isIndex() != hy.isIndex()) return false;
      if (!hx.isIndex() && hx.bits() != hy.bits()) return false;
    } else if (x != y) {
      return false;
    }
  }
  return true;
}

bool Executor::Impl::refMatchesSlow(Ref r, uint32_t ht_bits, bool nullable) const {
  // Spec 4.4.2 ref.test: the runtime type of the reference matches the
  // target (with abstract targets decided by the reference's kind).
  if (r.isNull()) return nullable;
  HeapType ht = HeapType::fromBits(ht_bits);
  if (ht.isIndex()) {
    CanonTypeId t;
    if (r.isObject()) {
      t = store.heap->typeOf(r);
    } else if (r.isFunc()) {
      t = store.funcs[r.funcAddr()].type;
    } else {
      return false;
    }
    return t == ht.index() || store.types.isSubtype(t, ht.index());
  }
  switch (ht.abstractKind()) {
    // Every non-null value of the hierarchy. Host values belong to both
    // (any.convert_extern keeps the bits); functions to neither (only a
    // host caller could offer one here: Executor::invoke's check).
    case HeapType::Any:
    case HeapType::Extern: return !r.isFunc();
    case HeapType::Eq: return r.isI31() || r.isObject();
    case HeapType::I31: return r.isI31();
    case HeapType::Struct:
      return r.isObject() && store.types.kind(store.heap->typeOf(r)) == CompositeKind::Struct;
    case HeapType::Array:
      return r.isObject() && store.types.kind(store.heap->typeOf(r)) == CompositeKind::Array;
    case HeapType::Func: return r.isFunc();
    default: return false;  // none, nofunc, noextern: only null
  }
}

Outcome Executor::Impl::callHost(const FuncInst& f, size_t args_at, size_t results_at) {
  std::span<const ValType> params = store.types.params(f.type);
  std::vector<Value> args(stack.begin() + static_cast<ptrdiff_t>(args_at),
                          stack.begin() + static_cast<ptrdiff_t>(args_at + params.size()));
  // Safepoint: entering the host. The arguments are roots until the host
  // has them.
  host_args_at = args_at;
  host_args_type = f.type;
  store.heap->safepoint(*this);
  host_args_type = kNoCanonType;
  if (store.heap->violation()) return Outcome::violated(*store.heap->violation());
  Outcome o = f.host(exec, args);
  // The host may have collected (the `gc` import) or verified.
  if (o.ok() && !chargeGc()) return Outcome::outOfFuel();
  if (o.ok()) {
    size_t nr = store.types.results(f.type).size();
    if (o.results.size() != nr) return Outcome::trapped(TrapKind::HostTrap, "host returned the wrong number of results");
    if (!ensureStack(results_at + nr)) return Outcome::trapped(TrapKind::CallStackExhausted);
    std::copy(o.results.begin(), o.results.end(), stack.begin() + static_cast<ptrdiff_t>(results_at));
  }
  return o;
}

Outcome Executor::Impl::invoke(FuncAddr addr, std::span<const Value> args) {
  if (addr >= store.funcs.size()) return Outcome::trapped(TrapKind::HostTrap, "no such function");
  const FuncInst& f = store.funcs[addr];
  std::span<const ValType> params = store.types.params(f.type);
  if (args.size() != params.size()) {
    return Outcome::trapped(TrapKind::HostTrap, "wrong number of arguments");
  }
  // A reference argument must be a value of its parameter's type (numbers
  // carry no tag to check): a null for a non-nullable parameter, or an
  // object, function or host value of another type, is the caller's
  // mistake, reported before any code runs.
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].isRef()) continue;
    bool ok = refMatches(args[i].ref(), params[i].heapType().bits(), params[i].nullable());
    if (store.heap->violation()) return Outcome::violated(*store.heap->violation());
    if (!ok) {
      return Outcome::trapped(TrapKind::HostTrap,
                              fmt::format("argument {} is not a {}", i, params[i].toString()));
    }
  }
  // Every nested entry counts, a host function's as much as a wasm
  // function's: a host function that calls itself through the host (an
  // exported call-export whose export index names itself) recurses natively
  // without a single wasm frame.
  if (reentry >= kMaxReentry ||
      (reentry > 0 && reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) < nativeStackFloor())) {
    return Outcome::trapped(TrapKind::CallStackExhausted);
  }
  size_t base = stackTop();
  if (!ensureStack(base + args.size() + 1)) return Outcome::trapped(TrapKind::CallStackExhausted);
  std::copy(args.begin(), args.end(), stack.begin() + static_cast<ptrdiff_t>(base));
  if (!f.instance) {
    ++reentry;
    Outcome o = callHost(f, base, base);
    --reentry;
    return o;
  }
  if (frames.size() >= limits.max_call_depth) return Outcome::trapped(TrapKind::CallStackExhausted);
  const CompiledFunction& cf =
      f.instance->code->funcs[f.index - f.instance->code->num_imported_funcs];
  if (!ensureStack(base + cf.frame_size)) return Outcome::trapped(TrapKind::CallStackExhausted);
  std::fill(stack.begin() + static_cast<ptrdiff_t>(base + cf.num_params),
            stack.begin() + static_cast<ptrdiff_t>(base + cf.num_locals), Value());
  size_t entry = frames.size();
  frames.push_back({&cf, f.instance, 0, base});
  ++reentry;
  Outcome o = run(entry);
  --reentry;
  if (o.ok()) {
    o.results.assign(stack.begin() + static_cast<ptrdiff_t>(base),
                     stack.begin() + static_cast<ptrdiff_t>(base + cf.num_results));
  }
  return o;
}

// The dispatch loop. Runs the frame on top of `frames` (pushed by invoke)
// until the frame stack is back to `entry_frames` frames.
Outcome Executor::Impl::run(size_t entry_frames) {
  static void* const kLabels[] = {
#define IR_OP(Name, Fmt) &&L_##Name,
#define IR_UNARY(Name, In, Out, expr) &&L_##Name,
#define IR_BINARY(Name, In, Out, expr) &&L_##Name, &&L_##Name##Imm,
#define IR_BINARY_NOIMM(Name, In, Out, expr) &&L_##Name,
#define IR_BRCMP(Name, In, expr) &&L_BrIf##Name, &&L_BrIf##Name##Imm,
#include "runtime/ir.def"
  };
  static_assert(std::size(kLabels) == kIrOpCount);

  Heap& heap = *store.heap;
  // A heap that never collects has nothing to do at a safepoint, so the
  // virtual call is skipped (Heap::collects); pcs are still saved.
  heap_collects = heap.collects();
  const CompiledFunction* fn = nullptr;
  Instance* inst = nullptr;
  const IrInstr* code = nullptr;
  const IrInstr* pc = nullptr;
  Value* fp = nullptr;
  MemoryInst* mem = nullptr;
  TrapKind trap = TrapKind::Unreachable;
  std::string detail;

  // Callee set-up shared by calls (`call_addr`, `call_base` in, or a tail
  // call when `tail`).
  FuncAddr call_addr = 0;
  uint32_t call_base = 0;
  bool tail = false;

#define LOAD_FRAME()                                                       \
  do {                                                                     \
    const Frame& f_ = frames.back();                                       \
    fn = f_.fn;                                                            \
    inst = f_.inst;                                                        \
    code = fn->code.data();                                                \
    pc = code + f_.pc;                                                     \
    fp = stack.data() + f_.fp;                                             \
    mem = inst->memories.empty() ? nullptr : inst->memories[0];            \
  } while (0)
#define SAVE_PC() (frames.back().pc = static_cast<uint32_t>(pc - code))
#define DISPATCH() goto* kLabels[static_cast<size_t>(pc->op)]
#define NEXT()  \
  do {          \
    ++pc;       \
    DISPATCH(); \
  } while (0)
#define TRAP(kind)  \
  do {              \
    trap = (kind);  \
    goto do_trap;   \
  } while (0)
#define JUMP(target)                                                         \
  do {                                                                       \
    const IrInstr* to_ = code + (target);                                    \
    if (to_ <= pc) {                                                         \
      int64_t cost_ = (pc - to_) + 1;                                        \
      fuel -= cost_;                                                         \
      fuel_charged += static_cast<uint64_t>(cost_);                          \
      if (fuel < 0) goto do_out_of_fuel;                                     \
    }                                                                        \
    pc = to_;                                                                \
    DISPATCH();                                                              \
  } while (0)
#define A (pc->a)
#define B (pc->b)
#define C (pc->c)
  // After a heap call that can find a violation.
#define HEAP_CHECK()                                   \
  do {                                                 \
    if (heap.violation() != nullptr) [[unlikely]] {    \
      SAVE_PC();                                       \
      goto do_violation;                               \
    }                                                  \
  } while (0)

  // Entering a function (the first frame, or a callee just pushed): one unit
  // of fuel, and a safepoint at which the arguments are the callee's roots.
#define ENTER_FUNCTION()                          \
  do {                                            \
    fuel -= 1;                                    \
    fuel_charged += 1;                            \
    if (fuel < 0) goto do_out_of_fuel;            \
    if (heap_collects) {                          \
      frames.back().pc = kEntryPc;                \
      heap.safepoint(*this);                      \
      if (heap.violation()) goto do_violation;    \
      if (!chargeGc()) goto do_out_of_fuel;       \
      frames.back().pc = 0;                       \
    }                                             \
    LOAD_FRAME();                                 \
    DISPATCH();                                   \
  } while (0)

  ENTER_FUNCTION();

  // --- Numerics without traps, from ir.def ---------------------------------
#define IR_UNARY(Name, In, Out, expr)                      \
  L_##Name : {                                             \
    In x = rd<In>(fp[B]);                                  \
    fp[A] = wr<Out>(static_cast<Out>(expr));               \
    NEXT();                                                \
  }
#define IR_BINARY_NOIMM(Name, In, Out, expr)                           \
  L_##Name : {                                                         \
    In x = rd<In>(fp[B]);                                              \
    In y = rd<In>(fp[C]);                                              \
    fp[A] = wr<Out>(static_cast<Out>(expr));                           \
    NEXT();                                                            \
  }
// A binary op plus a second form whose right operand is the constant in C.
#define IR_BINARY(Name, In, Out, expr)                                 \
  IR_BINARY_NOIMM(Name, In, Out, expr)                                 \
  L_##Name##Imm : {                                                    \
    In x = rd<In>(fp[B]);                                              \
    In y = static_cast<In>(static_cast<int32_t>(C));                   \
    fp[A] = wr<Out>(static_cast<Out>(expr));                           \
    NEXT();                                                            \
  }
#define IR_BRCMP(Name, In, expr)                                       \
  L_BrIf##Name : {                                                     \
    In x = rd<In>(fp[A]);                                              \
    In y = rd<In>(fp[B]);                                              \
    if (expr) JUMP(C);                                                 \
    NEXT();                                                            \
  }                                                                    \
  L_BrIf##Name##Imm : {                                                \
    In x = rd<In>(fp[A]);                                              \
    In y = static_cast<In>(static_cast<int32_t>(B));                   \
    if (expr) JUMP(C);                                                 \
    NEXT();                                                            \
  }
#include "runtime/ir.def"

  // --- Control ---------------------------------------------------------------
L_Nop:
  NEXT();
L_Unreachable:
  TRAP(TrapKind::Unreachable);
L_Jump:
  JUMP(C);
L_BrIf:
  if (fp[A].u32() != 0) JUMP(C);
  NEXT();
L_BrUnless:
L_BrIfEqz:
  if (fp[A].u32() == 0) JUMP(C);
  NEXT();
L_BrTable: {
  uint32_t i = std::min(fp[A].u32(), C);
  JUMP(fn->br_tables[B + i]);
}
L_BrOnNull:
  if (fp[A].ref().isNull()) JUMP(C);
  NEXT();
L_BrOnNonNull:
  if (!fp[A].ref().isNull()) JUMP(C);
  NEXT();
L_BrOnCast: {
  bool m = refMatches(fp[A].ref(), B, pc->x != 0);
  HEAP_CHECK();
  if (m) JUMP(C);
  NEXT();
}
L_BrOnCastFail: {
  bool m = refMatches(fp[A].ref(), B, pc->x != 0);
  HEAP_CHECK();
  if (!m) JUMP(C);
  NEXT();
}
L_Return: {
  popFrame();
  if (frames.size() == entry_frames) return Outcome::returned({});
  LOAD_FRAME();
  NEXT();  // past the call
}

  // --- Calls (spec 4.4.8): all end in do_call ---------------------------------
L_Call:
  call_addr = inst->funcs[A];
  call_base = B;
  tail = false;
  goto do_call;
L_ReturnCall:
  call_addr = inst->funcs[A];
  call_base = B;
  tail = true;
  goto do_call;
L_CallIndirect:
L_ReturnCallIndirect: {
  const TableInst* table = inst->tables[C];
  uint32_t i = fp[B + pc->x].u32();
  if (i >= table->elems.size()) TRAP(TrapKind::UndefinedElement);
  Ref r = table->elems[i];
  if (r.isNull()) TRAP(TrapKind::UninitializedElement);
  call_addr = r.funcAddr();
  // Spec 4.4.8 call_indirect: the function's type must match (be a
  // subtype of) the expected type, compared as canonical types.
  CanonTypeId actual = store.funcs[call_addr].type;
  if (actual != A && !store.types.isSubtype(actual, A)) TRAP(TrapKind::IndirectCallTypeMismatch);
  call_base = B;
  tail = pc->op == IrOp::ReturnCallIndirect;
  goto do_call;
}
L_CallRef:
L_ReturnCallRef: {
  Ref r = fp[B + A].ref();
  if (r.isNull()) TRAP(TrapKind::NullFunctionReference);
  call_addr = r.funcAddr();
  call_base = B;
  tail = pc->op == IrOp::ReturnCallRef;
  goto do_call;
}

do_call: {
  const FuncInst& callee = store.funcs[call_addr];
  SAVE_PC();
  size_t caller_fp = frames.back().fp;
  if (!callee.instance) {
    // A host function: runs natively, may re-enter invoke.
    fuel -= 1;
    fuel_charged += 1;
    if (fuel < 0) goto do_out_of_fuel;
    size_t at = caller_fp + call_base;
    switch (callHostStep(callee, at, tail ? caller_fp : at, trap, detail)) {
      case Outcome::Kind::Returned: break;
      case Outcome::Kind::OutOfFuel: goto do_out_of_fuel;
      case Outcome::Kind::Trapped: goto do_trap;
      case Outcome::Kind::Violation: goto do_violation;
    }
    // The host may have collected (a `gc` import) and found a violation.
    if (heap.violation()) goto do_violation;
    if (fuel < 0) goto do_out_of_fuel;
    if (tail) {
      popFrame();
      if (frames.size() == entry_frames) return Outcome::returned({});
    }
    LOAD_FRAME();
    NEXT();
  }
  const CompiledFunction* cf =
      &callee.instance->code->funcs[callee.index - callee.instance->code->num_imported_funcs];
  size_t new_fp;
  if (tail) {
    // return_call*: the callee replaces this frame (constant stack).
    std::memmove(fp, fp + call_base, sizeof(Value) * cf->num_params);
    new_fp = caller_fp;
    popFrame();
  } else {
    if (frames.size() >= limits.max_call_depth) TRAP(TrapKind::CallStackExhausted);
    new_fp = caller_fp + call_base;
  }
  if (!ensureStack(new_fp + cf->frame_size)) {
    if (tail) frames.push_back({fn, inst, static_cast<uint32_t>(pc - code), caller_fp});
    TRAP(TrapKind::CallStackExhausted);
  }
  {
    // Non-parameter locals start at zero: stored directly, not through a
    // call to memset, and laid out off the path of calls that have none.
    Value* p = stack.data() + new_fp + cf->num_params;
    size_t n = cf->num_locals - cf->num_params;
    if (n > 0) [[unlikely]] {
      p[0] = Value();
      if (n > 1) std::fill(p + 1, p + n, Value());
    }
  }
  frames.push_back({cf, callee.instance, 0, new_fp});
  ENTER_FUNCTION();
}

  // --- Data movement --------------------------------------------------------
L_Copy:
  fp[A] = fp[B];
  NEXT();
L_Const32:
  fp[A] = Value::fromBits(B);
  NEXT();
L_Const64:
  fp[A] = Value::fromBits((uint64_t{C} << 32) | B);
  NEXT();
L_Select:
  if (fp[C].u32() == 0) fp[A] = fp[B];
  NEXT();
L_GlobalGet:
  fp[A] = inst->globals[B]->value;
  NEXT();
L_GlobalSet:
  inst->globals[B]->value = fp[A];
  NEXT();

  // --- Trapping numerics (spec 4.3.2 idiv/irem, 4.3.4 trunc) ---------------
#define DIV_OP(Name, T, body)   \
  L_##Name : {                  \
    T x = rd<T>(fp[B]);         \
    T y = rd<T>(fp[C]);         \
    if (y == 0) TRAP(TrapKind::IntegerDivideByZero); \
    body;                       \
    NEXT();                     \
  }
  DIV_OP(I32DivS, int32_t, if (x == INT32_MIN && y == -1) TRAP(TrapKind::IntegerOverflow);
         fp[A] = wr<int32_t>(x / y))
  DIV_OP(I32DivU, uint32_t, fp[A] = wr<uint32_t>(x / y))
  DIV_OP(I32RemS, int32_t, fp[A] = wr<int32_t>(y == -1 ? 0 : x % y))
  DIV_OP(I32RemU, uint32_t, fp[A] = wr<uint32_t>(x % y))
  DIV_OP(I64DivS, int64_t, if (x == INT64_MIN && y == -1) TRAP(TrapKind::IntegerOverflow);
         fp[A] = wr<int64_t>(x / y))
  DIV_OP(I64DivU, uint64_t, fp[A] = wr<uint64_t>(x / y))
  DIV_OP(I64RemS, int64_t, fp[A] = wr<int64_t>(y == -1 ? 0 : x % y))
  DIV_OP(I64RemU, uint64_t, fp[A] = wr<uint64_t>(x % y))
#undef DIV_OP

#define TRUNC_OP(Name, F, I)                                                        \
  L_##Name : {                                                                      \
    I out_;                                                                         \
    switch (num::truncChecked<I>(rd<F>(fp[B]), out_)) {                             \
      case num::TruncResult::NaN: TRAP(TrapKind::InvalidConversion);                \
      case num::TruncResult::Overflow: TRAP(TrapKind::IntegerOverflow);             \
      case num::TruncResult::Ok: break;                                             \
    }                                                                               \
    fp[A] = wr<I>(out_);                                                            \
    NEXT();                                                                         \
  }
  TRUNC_OP(I32TruncF32S, float, int32_t)
  TRUNC_OP(I32TruncF32U, float, uint32_t)
  TRUNC_OP(I32TruncF64S, double, int32_t)
  TRUNC_OP(I32TruncF64U, double, uint32_t)
  TRUNC_OP(I64TruncF32S, float, int64_t)
  TRUNC_OP(I64TruncF32U, float, uint64_t)
  TRUNC_OP(I64TruncF64S, double, int64_t)
  TRUNC_OP(I64TruncF64U, double, uint64_t)
#undef TRUNC_OP

#include "runtime/exec_memory.inc"
#include "runtime/exec_gc.inc"

do_trap:
  truncateFrames(entry_frames);
  return Outcome::trapped(trap, std::move(detail));
do_out_of_fuel:
  truncateFrames(entry_frames);
  return Outcome::outOfFuel();
do_violation:
  return violationOutcome(entry_frames);

#undef ENTER_FUNCTION
#undef LOAD_FRAME
#undef SAVE_PC
#undef DISPATCH
#undef NEXT
#undef TRAP
#undef JUMP
#undef A
#undef B
#undef C
#undef ALLOC_SAFEPOINT
#undef ALLOC_RESULT
#undef HEAP_CHECK
}

Executor::Executor(Store& store, RunLimits limits)
    : store_(store), limits_(limits), impl_(std::make_unique<Impl>(*this, store, limits_)) {}
Executor::~Executor() = default;

Outcome Executor::invoke(FuncAddr addr, std::span<const Value> args) {
  return impl_->invoke(addr, args);
}

uint64_t Executor::fuelUsed() const { return impl_->fuel_charged; }

RootSource& Executor::roots() { return *impl_; }

bool Executor::collectGarbage() {
  store_.heap->collect(*impl_);
  return store_.heap->violation() == nullptr;
}

bool Executor::verifyHeap() { return store_.heap->verify(*impl_); }

}  // namespace slabfuzz
