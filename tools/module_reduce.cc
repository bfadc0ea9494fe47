// Delta debugging over a decoded Module; see module_reduce.h.
#include "tools/module_reduce.h"

#include <algorithm>
#include <functional>
#include <unordered_set>
#include <utility>

#include "generators/encode.h"
#include "runtime/decode.h"
#include "runtime/validate.h"

namespace slabfuzz::cli {

size_t countInstructions(const Module& m) {
  size_t n = 0;
  for (const Function& f : m.functions) n += f.body.size();
  return n;
}

std::optional<size_t> countInstructions(std::span<const uint8_t> wasm) {
  auto m = decodeModule(wasm);
  if (!m.ok()) return std::nullopt;
  return countInstructions(m.value());
}

namespace {

using Clock = std::chrono::steady_clock;

bool opensBlock(Opcode op) {
  return op == Opcode::Block || op == Opcode::Loop || op == Opcode::If;
}

// [s, s + len) holds whole constructs only (every block it opens ends inside
// it, no `else` or `end` of an enclosing one): deleting it leaves the block
// structure, and every branch depth outside it, as it was.
bool balanced(const std::vector<Instr>& body, size_t s, size_t len) {
  int depth = 0;
  for (size_t i = s; i < s + len; ++i) {
    Opcode op = body[i].op;
    if (opensBlock(op)) {
      ++depth;
    } else if (op == Opcode::End) {
      if (--depth < 0) return false;
    } else if (op == Opcode::Else && depth == 0) {
      return false;
    }
  }
  return depth == 0;
}

// The `end` (and `else`, or the end again) of the construct opened at `s`.
std::pair<size_t, size_t> constructEnd(const std::vector<Instr>& body, size_t s) {
  int depth = 0;
  size_t else_at = 0;
  for (size_t i = s; i < body.size(); ++i) {
    Opcode op = body[i].op;
    if (opensBlock(op)) ++depth;
    if (op == Opcode::Else && depth == 1) else_at = i;
    if (op == Opcode::End && --depth == 0) return {i, else_at ? else_at : i};
  }
  return {body.size(), body.size()};
}

// Branch depths in body[from, to), which is about to lose one enclosing
// construct: a branch past that construct keeps its target with one label
// fewer; one to the construct itself is left to the validator.
void dropEnclosingLabel(std::vector<Instr>& body, std::vector<uint32_t>& extra, size_t from,
                        size_t to) {
  uint32_t nest = 0;
  auto adjust = [&](uint32_t& depth) {
    if (depth > nest) --depth;
  };
  for (size_t i = from; i < to; ++i) {
    Instr& ins = body[i];
    switch (ins.op) {
      case Opcode::Block:
      case Opcode::Loop:
      case Opcode::If: ++nest; continue;
      case Opcode::End:
        if (nest) --nest;
        continue;
      default: break;
    }
    ImmKind imm = opcodeInfo(ins.op).imm;
    if (imm == ImmKind::Label || imm == ImmKind::BrOnCast) adjust(ins.a);
    if (imm == ImmKind::BrTable) {
      for (uint32_t k = 0; k < ins.b && ins.a + k < extra.size(); ++k) adjust(extra[ins.a + k]);
      adjust(ins.c);
    }
  }
}

uint64_t hashBytes(const std::vector<uint8_t>& bytes) {
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h ^ bytes.size();
}

class Reducer {
 public:
  Reducer(const std::vector<uint8_t>& wasm, const ReducePredicate& keeps,
          const ReduceOptions& options, ReduceStats& stats)
      : keeps_(keeps), options_(options), stats_(stats), bytes_(wasm) {
    auto m = decodeModule(wasm);
    if (m.ok()) cur_ = std::move(m).value();
    ok_ = m.ok();
    seen_.insert(hashBytes(wasm));
  }

  // Our passes to a fixed point; then the outside rewrites, and if one of
  // them helped, our passes again from there. (The rewrites first would
  // lead elsewhere: Binaryen's -O1 inlines and reorders, which can leave a
  // larger fixed point.)
  std::vector<uint8_t> run() {
    if (!ok_) return bytes_;
    stripNames();
    while (!expired()) {
      for (;;) {
        ++stats_.rounds;
        auto before = size();
        removeExports();
        removeStart();
        emptyBodies();
        removeFunctions();
        redirectExports();
        deleteRanges();
        unwrapConstructs();
        simplifyRanges();
        if (size() >= before || expired()) break;
      }
      bool helped = false;
      for (const ReduceTransform& t : options_.transforms) {
        if (expired()) break;
        if (auto out = t.run(bytes_)) helped |= adopt(std::move(*out), t.name);
      }
      if (!helped) break;
    }
    return bytes_;
  }

 private:
  // What "smaller" means: fewer instructions, then fewer bytes.
  std::pair<size_t, size_t> size() const { return {countInstructions(cur_), bytes_.size()}; }

  bool expired() {
    if (options_.deadline && Clock::now() >= *options_.deadline) stats_.timed_out = true;
    return stats_.timed_out;
  }

  // Checks bytes and, when they are smaller and still interesting, makes
  // them the current module.
  bool adopt(std::vector<uint8_t> bytes, const std::string& pass) {
    if (expired() || !seen_.insert(hashBytes(bytes)).second) return false;
    auto m = decodeModule(bytes);
    if (!m.ok() || !validateModule(m.value()).ok()) return false;
    if (std::make_pair(countInstructions(m.value()), bytes.size()) >= size()) return false;
    ++stats_.valid;
    const auto t0 = Clock::now();
    const bool kept = keeps_(bytes);
    if (options_.trace)
      options_.trace(pass, kept, countInstructions(m.value()),
                     std::chrono::duration<double>(Clock::now() - t0).count());
    if (!kept) return false;
    ++stats_.kept;
    cur_ = std::move(m).value();
    bytes_ = std::move(bytes);
    auto it = std::find_if(stats_.kept_by_pass.begin(), stats_.kept_by_pass.end(),
                           [&](const auto& p) { return p.first == pass; });
    if (it == stats_.kept_by_pass.end())
      stats_.kept_by_pass.emplace_back(pass, 1);
    else
      ++it->second;
    return true;
  }

  bool attempt(const Module& cand, const char* pass) {
    if (expired()) return false;
    ++stats_.candidates;
    return adopt(encodeModule(cand), pass);
  }

  // Removes chunks of a list of `count()` items, halves first, then
  // quarters, ... then single items; `build(lo, hi)` makes the module
  // without items [lo, hi), or nullopt when it cannot.
  template <class Count, class Build>
  void removeChunks(Count count, Build build, const char* pass) {
    size_t n = count();
    if (n == 0) return;
    for (size_t chunk = std::max<size_t>(n / 2, 1);; chunk /= 2) {
      for (size_t lo = 0; lo < count() && !expired();) {
        size_t hi = std::min(count(), lo + chunk);
        std::optional<Module> cand = build(lo, hi);
        if (!(cand && attempt(*cand, pass))) lo = hi;
      }
      if (chunk <= 1 || expired()) break;
    }
  }

  void stripNames() {
    if (cur_.customs.empty() && cur_.names.functions.empty() && !cur_.names.module) return;
    Module cand = cur_;
    cand.customs.clear();
    cand.names = Names{};
    attempt(cand, "names");
  }

  void removeExports() {
    removeChunks([&] { return cur_.exports.size(); },
                 [&](size_t lo, size_t hi) -> std::optional<Module> {
                   Module cand = cur_;
                   cand.exports.erase(cand.exports.begin() + lo, cand.exports.begin() + hi);
                   return cand;
                 },
                 "exports");
  }

  // An export pointed at another function (a caller that only forwards
  // its call can then go).
  void redirectExports() {
    for (size_t e = 0; e < cur_.exports.size() && !expired(); ++e) {
      if (cur_.exports[e].kind != ExternKind::Func) continue;
      for (uint32_t fn = cur_.num_imported_funcs; fn < cur_.func_types.size() && !expired(); ++fn) {
        if (fn == cur_.exports[e].index) continue;
        Module cand = cur_;
        cand.exports[e].index = fn;
        // Smaller only once the old target goes: try that at once.
        uint32_t old = cur_.exports[e].index;
        bool used = false;
        for (const Export& x : cand.exports) used |= x.kind == ExternKind::Func && x.index == old;
        if (used || old < cand.num_imported_funcs) continue;
        Module saved = std::move(cur_);
        cur_ = cand;
        std::optional<Module> without = withoutFunctions(old, old + 1);
        cur_ = std::move(saved);
        if (without && attempt(*without, "redirect")) break;
      }
    }
  }

  void removeStart() {
    if (!cur_.start) return;
    Module cand = cur_;
    cand.start.reset();
    attempt(cand, "start");
  }

  // A body of `unreachable; end`: valid for every function type.
  void emptyBodies() {
    removeChunks([&] { return cur_.functions.size(); },
                 [&](size_t lo, size_t hi) -> std::optional<Module> {
                   Module cand = cur_;
                   bool changed = false;
                   for (size_t i = lo; i < hi; ++i) {
                     Function& f = cand.functions[i];
                     if (f.body.size() <= 2 && f.locals.empty()) continue;
                     Instr u, e;
                     u.op = Opcode::Unreachable;
                     e.op = Opcode::End;
                     f.body = {u, e};
                     f.locals.clear();
                     f.extra.clear();
                     changed = true;
                   }
                   if (!changed) return std::nullopt;
                   return cand;
                 },
                 "bodies");
  }

  // Functions [lo, hi) of the index space deleted and every index after
  // them moved down; references from element segments and exports go with
  // them, any other reference makes the candidate impossible.
  std::optional<Module> withoutFunctions(uint32_t lo, uint32_t hi) {
    Module cand = cur_;
    const uint32_t nimp = cand.num_imported_funcs;
    if (lo < nimp && hi > nimp) return std::nullopt;  // imports and definitions apart
    const uint32_t gone = hi - lo;
    auto deleted = [&](uint32_t i) { return i >= lo && i < hi; };
    bool impossible = false;
    auto remap = [&](std::vector<Instr>& code) {
      for (Instr& ins : code) {
        if (opcodeInfo(ins.op).imm != ImmKind::Func) continue;
        if (deleted(ins.a)) impossible = true;
        if (ins.a >= hi) ins.a -= gone;
      }
    };
    for (Function& f : cand.functions) remap(f.body);
    for (Global& g : cand.globals) remap(g.init.instrs);
    for (Table& t : cand.tables)
      if (t.init) remap(t.init->instrs);
    for (DataSegment& d : cand.datas) remap(d.memory_offset.instrs);
    for (ElemSegment& e : cand.elems) {
      remap(e.table_offset.instrs);
      std::vector<ConstExpr> kept;
      for (ConstExpr& item : e.items) {
        bool refers = std::any_of(item.instrs.begin(), item.instrs.end(), [&](const Instr& i) {
          return opcodeInfo(i.op).imm == ImmKind::Func && deleted(i.a);
        });
        if (refers) continue;
        bool was = impossible;
        remap(item.instrs);
        impossible = was;
        kept.push_back(std::move(item));
      }
      e.items = std::move(kept);
    }
    if (impossible) return std::nullopt;
    std::erase_if(cand.exports,
                  [&](const Export& x) { return x.kind == ExternKind::Func && deleted(x.index); });
    for (Export& x : cand.exports)
      if (x.kind == ExternKind::Func && x.index >= hi) x.index -= gone;
    if (cand.start) {
      if (deleted(*cand.start))
        cand.start.reset();
      else if (*cand.start >= hi)
        *cand.start -= gone;
    }
    if (lo < nimp) {
      uint32_t k = 0;
      std::erase_if(cand.imports, [&](const Import& im) {
        if (im.kind != ExternKind::Func) return false;
        return deleted(k++);
      });
      cand.num_imported_funcs -= gone;
    } else {
      cand.functions.erase(cand.functions.begin() + (lo - nimp),
                           cand.functions.begin() + (hi - nimp));
      if (cand.func_decl_offsets.size() >= hi - nimp)
        cand.func_decl_offsets.erase(cand.func_decl_offsets.begin() + (lo - nimp),
                                     cand.func_decl_offsets.begin() + (hi - nimp));
    }
    cand.func_types.erase(cand.func_types.begin() + lo, cand.func_types.begin() + hi);
    cand.names = Names{};  // indices moved: names would name the wrong functions
    std::erase_if(cand.customs, [](const CustomSection& c) { return c.name == "name"; });
    return cand;
  }

  void removeFunctions() {
    // Definitions, then imports (unused host functions).
    removeChunks([&] { return cur_.functions.size(); },
                 [&](size_t lo, size_t hi) {
                   return withoutFunctions(static_cast<uint32_t>(lo + cur_.num_imported_funcs),
                                           static_cast<uint32_t>(hi + cur_.num_imported_funcs));
                 },
                 "functions");
    removeChunks([&] { return size_t{cur_.num_imported_funcs}; },
                 [&](size_t lo, size_t hi) {
                   return withoutFunctions(static_cast<uint32_t>(lo), static_cast<uint32_t>(hi));
                 },
                 "imports");
  }

  // Balanced ranges of each body, long ones first, at every start, replaced
  // by each of the sequences `with(body, s, len)` gives (an empty sequence
  // deletes the range); the first that makes a smaller module that is still
  // interesting is kept.
  using Replacements =
      std::function<std::vector<std::vector<Instr>>(const std::vector<Instr>&, size_t, size_t)>;
  void rewriteRanges(const char* pass, const Replacements& with, size_t min_len) {
    for (size_t f = 0; f < cur_.functions.size() && !expired(); ++f) {
      size_t top = 1;
      while (top * 2 < cur_.functions[f].body.size()) top *= 2;
      for (size_t len = top; len >= min_len && len >= 1 && !expired(); len /= 2) {
        for (size_t s = 0; !expired();) {
          if (s + len >= cur_.functions[f].body.size()) break;  // never the final end
          if (!balanced(cur_.functions[f].body, s, len)) {
            ++s;
            continue;
          }
          bool kept = false;
          for (const std::vector<Instr>& r : with(cur_.functions[f].body, s, len)) {
            if (r.size() >= len) continue;
            Module cand = cur_;
            auto& b = cand.functions[f].body;
            b.erase(b.begin() + s, b.begin() + s + len);
            b.insert(b.begin() + s, r.begin(), r.end());
            if ((kept = attempt(cand, pass))) break;
          }
          if (!kept) ++s;
        }
      }
    }
  }

  static Instr make(Opcode op, uint32_t a = 0) {
    Instr i;
    i.op = op;
    i.a = a;
    return i;
  }

  void deleteRanges() {
    rewriteRanges(
        "ranges", [](const auto&, size_t, size_t) { return std::vector<std::vector<Instr>>{{}}; },
        1);
  }

  // An expression of several instructions replaced by a cheaper one of its
  // type: a zero, a null of the bottom type of each hierarchy, an
  // allocation with default fields (for one that allocates the same type);
  // or code that is never reached before the finding by `unreachable`.
  void simplifyRanges() {
    rewriteRanges(
        "constants",
        [](const std::vector<Instr>& body, size_t s, size_t len) {
          std::vector<std::vector<Instr>> out = {
              {make(Opcode::I32Const)},
              {make(Opcode::I64Const)},
              {make(Opcode::F32Const)},
              {make(Opcode::F64Const)},
              {make(Opcode::RefNull, HeapType::abstract(HeapType::None).bits())},
              {make(Opcode::RefNull, HeapType::abstract(HeapType::NoFunc).bits())},
              {make(Opcode::RefNull, HeapType::abstract(HeapType::NoExtern).bits())},
              // A consumer and some of its operands: what is left is dropped.
              {make(Opcode::Drop)},
              {make(Opcode::Drop), make(Opcode::Drop)}};
          const Instr& last = body[s + len - 1];
          switch (last.op) {
            case Opcode::StructNew: out.push_back({make(Opcode::StructNewDefault, last.a)}); break;
            case Opcode::ArrayNew:
            case Opcode::ArrayNewFixed:
            case Opcode::ArrayNewData:
            case Opcode::ArrayNewElem:
              out.push_back({make(Opcode::I32Const), make(Opcode::ArrayNewDefault, last.a)});
              out.push_back({make(Opcode::ArrayNewFixed, last.a)});  // b = 0 operands
              break;
            default: break;
          }
          return out;
        },
        2);
    rewriteRanges(
        "unreachable",
        [](const auto&, size_t, size_t) {
          return std::vector<std::vector<Instr>>{{make(Opcode::Unreachable)}};
        },
        2);
  }

  // A block or loop replaced by its body; an `if` by one of its arms, its
  // condition dropped.
  void unwrapConstructs() {
    for (size_t f = 0; f < cur_.functions.size() && !expired(); ++f) {
      for (size_t s = 0; s < cur_.functions[f].body.size() && !expired();) {
        const std::vector<Instr>& body = cur_.functions[f].body;
        if (!opensBlock(body[s].op)) {
          ++s;
          continue;
        }
        auto [end, else_at] = constructEnd(body, s);
        if (end >= body.size() - 1) {
          ++s;
          continue;
        }
        bool done = false;
        // keep: 0 = the body (block, loop) or the then arm, 1 = the else arm.
        for (int keep = 0; keep < 2 && !done; ++keep) {
          if (keep == 1 && (body[s].op != Opcode::If || else_at == end)) break;
          Module cand = cur_;
          Function& fn = cand.functions[f];
          std::vector<Instr>& b = fn.body;
          size_t from = keep == 0 ? s + 1 : else_at + 1;
          size_t to = keep == 0 ? else_at : end;  // else_at == end without an else
          dropEnclosingLabel(b, fn.extra, from, to);
          std::vector<Instr> out(b.begin(), b.begin() + s);
          if (b[s].op == Opcode::If) {
            Instr drop;
            drop.op = Opcode::Drop;
            out.push_back(drop);
          }
          out.insert(out.end(), b.begin() + from, b.begin() + to);
          out.insert(out.end(), b.begin() + end + 1, b.end());
          b = std::move(out);
          done = attempt(cand, "unwrap");
        }
        if (!done) ++s;
      }
    }
  }

  const ReducePredicate& keeps_;
  const ReduceOptions& options_;
  ReduceStats& stats_;
  std::vector<uint8_t> bytes_;
  Module cur_;
  bool ok_ = false;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace

std::vector<uint8_t> reduceModule(const std::vector<uint8_t>& wasm, const ReducePredicate& keeps,
                                  const ReduceOptions& options, ReduceStats* stats) {
  ReduceStats local;
  Reducer r(wasm, keeps, options, stats ? *stats : local);
  return r.run();
}

}  // namespace slabfuzz::cli
