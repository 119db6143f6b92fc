// tg.jit's cache of recorded programs (python/tapegrad/_jit.py arranges arguments around it).
#include <algorithm>
#include <string>
#include <unordered_map>

#include "autodiff/fusion.h"
#include "autodiff/trace.h"
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

namespace {

using autodiff::Program;

// A jitted function and the programs recorded for it. Each input signature (dtypes, shapes,
// whether an outer transform tracks the argument, and the static part that Python hands in) keeps
// up to kMaxPrograms recordings, tried newest first; a replay whose guards fail falls through to the
// next one and in the end to a new recording.
class JitFunction {
 public:
  static constexpr size_t kMaxPrograms = 8;
  static constexpr size_t kMaxSignatures = 256;

  JitFunction(py::object fn, py::object flatten, py::object unflatten, py::object bindings, bool fuse = true)
      : fn_(std::move(fn)),
        flatten_(std::move(flatten)),
        unflatten_(std::move(unflatten)),
        bindings_(std::move(bindings)),
        fuse_(fuse) {}

  const py::object& fn() const { return fn_; }

  // The type's tp_call (no pybind11 dispatch on the hot path): positional Tensor arguments go
  // straight to the cache; anything else to the Python method `_call_general`.
  static PyObject* tp_call(PyObject* self, PyObject* args, PyObject* kwargs) {
    try {
      const bool no_kw = kwargs == nullptr || PyDict_GET_SIZE(kwargs) == 0;
      bool all = no_kw, arrays = false;
      const Py_ssize_t n = PyTuple_GET_SIZE(args);
      for (Py_ssize_t i = 0; all && i < n; ++i) {
        PyObject* a = PyTuple_GET_ITEM(args, i);
        if (is_tensor(a)) continue;
        // numpy arrays are traced arguments, converted as tg.tensor converts them (zero copy
        // where the layout allows): here rather than through _call_general, since SciPy and
        // other numerical callers pass them on every call.
        all = py::isinstance<py::array>(a);
        arrays = true;
      }
      if (all) {
        // tp_call is only reached through this type, so only initialisation needs checking.
        JitFunction* f = constructed(self);
        TG_CHECK_TYPE(f != nullptr, "jit: this function object was not initialised (make it with tg.jit(fn))");
        py::tuple targs = py::reinterpret_borrow<py::tuple>(args);
        if (arrays) {
          py::tuple conv(n);
          for (Py_ssize_t i = 0; i < n; ++i) {
            py::handle a = PyTuple_GET_ITEM(args, i);
            conv[size_t(i)] =
                is_tensor(a) ? py::reinterpret_borrow<py::object>(a) : py::cast(tensor_from_py(a, py::none(), true));
          }
          targs = std::move(conv);
        }
        return f->call(f->fn_, targs, py::none()).release().ptr();
      }
      py::object general = py::handle(self).attr("_call_general");
      return PyObject_Call(general.ptr(), args, kwargs);
    } catch (py::error_already_set& e) { e.restore(); } catch (...) {
      shim::translate_active_exception();
    }
    return nullptr;
  }

  // The function behind `self`; a TypeError (never a crash) for an object made by __new__ alone.
  static JitFunction& of(py::handle self) {
    TG_CHECK_TYPE(py::isinstance<JitFunction>(self) && shim::is_holder_constructed(self.ptr()),
                  "jit: this function object was not initialised (make it with tg.jit(fn))");
    return py::cast<JitFunction&>(self);
  }

  // Garbage collection: fn_ may refer back to the object that owns this function (a Cell whose
  // construct is jitted), so the collector must see it.
  //
  // The C++ object is read straight from pybind11's instance record, not through py::cast or
  // is_holder_constructed: those look up the Python type's type_info, and the first lookup for a
  // type (tg.jit's Python subclass, on the first tg.jit of a process) allocates, which can start a
  // collection that traverses this very object while pybind11's cache entry for the type is still
  // empty: a segfault. An instance whose layout is not set up yet reads as zeros here and is
  // skipped (it owns nothing yet). This class has one C++ type, hence pybind11's simple layout.
  static JitFunction* constructed(PyObject* self) { return shim::simple_layout_value<JitFunction>(self); }
  static int tp_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    if (JitFunction* f = constructed(self)) {
      Py_VISIT(f->fn_.ptr());
      for (const Binding& b : f->watch_) {
        Py_VISIT(b.where.ptr());
        Py_VISIT(b.value.ptr());
      }
    }
    return 0;
  }
  static int tp_clear(PyObject* self) {
    if (JitFunction* f = constructed(self)) {
      f->fn_ = py::none();
      f->clear();
    }
    return 0;
  }

  // fn(*args) through the cache; args are Tensors, static_key None or hashable.
  py::object call(py::handle fn, py::tuple args, py::handle static_key) {
    // A tensor the function names from outside (a closure variable, a global) rebound to another
    // object since the recordings were made: eager code would use the new one, so record again.
    if (!watch_.empty() && !bindings_hold()) clear();
    TensorList ins;
    Key key;
    int64_t elements = 0;
    for (py::handle a : args) {
      TG_CHECK_TYPE(is_tensor(a), "jit: arguments must be Tensors here, got ", Py_TYPE(a.ptr())->tp_name);
      const Tensor& t = as_tensor(a);
      elements += t.numel();
      key.push_back(int64_t(t.dtype()) | (t.tracked() && autodiff::tracked_at_active_level(t) ? 256 : 0) |
                    (t.ndim() << 16));
      for (int64_t d : t.shape()) key.push_back(d);
      ins.push_back(t);
    }
    const bool has_static = !static_key.is_none();
    if (has_static) key.push_back(int64_t(py::hash(static_key)));
    std::shared_ptr<Entry> keep;  // alive even if fn clears the cache
    if (last_ && !has_static && key == last_key_) {
      keep = last_;
    } else {
      keep = entry(key, static_key, has_static);
      if (!has_static) {
        last_ = keep;
        last_key_ = key;
      }
    }
    Entry& e = *keep;
    if (e.eager) return fn(*args);
    for (size_t i = 0; i < e.progs.size(); ++i) {
      const Compiled c = e.progs[i];  // the list may change while the replay runs
      TensorList outs;
      bool ok;
      if (elements >= kReleaseGil && !autodiff::any_level_active()) {
        // A large replay runs without the GIL (API section 8); user rules take it back themselves.
        py::gil_scoped_release nogil;
        SharedDataLock lock;  // Note [Concurrent writes]
        ok = c.prog->replay(ins, outs);
      } else {
        ok = c.prog->replay(ins, outs);
      }
      if (ok) {
        ++e.replays;
        return build(c.tree, outs);
      }
    }
    return record(e, fn, args);
  }

  py::dict stats() const {
    int64_t records = 0, replays = 0, programs = 0, eager = 0, arena_buffers = 0, arena_bytes = 0;
    std::vector<std::string> why;  // Python objects only after the walk (allocation may run the GC)
    for (const auto& kv : map_)
      for (const auto& ep : kv.second) {
        const Entry& e = *ep;
        records += e.records;
        replays += e.replays;
        programs += int64_t(e.progs.size());
        for (const Compiled& c : e.progs) {  // Note [Replay arena]
          const autodiff::ArenaStats a = autodiff::arena_stats(*c.prog);
          arena_buffers += a.buffers;
          arena_bytes += a.bytes;
        }
        if (e.eager) {
          ++eager;
          why.push_back(e.why);
        }
      }
    py::list reasons;
    for (const std::string& w : why) reasons.append(w);
    py::dict d;
    d["records"] = records;
    d["replays"] = replays;
    d["programs"] = programs;
    d["eager_signatures"] = eager;
    d["eager_reasons"] = reasons;
    d["arena_buffers"] = arena_buffers;
    d["arena_bytes"] = arena_bytes;
    return d;
  }

  // The fused groups of every recording (Note [Fused replay]), one line per program.
  std::string explain() const {
    std::string r;
    int i = 0;
    for (const auto& kv : map_)
      for (const auto& ep : kv.second)
        for (const Compiled& c : ep->progs) {
          if (!r.empty()) r += "\n";
          r += "program " + std::to_string(i++) + ": " + autodiff::explain_fusion(*c.prog);
        }
    if (!fuse_) r += (r.empty() ? "" : "\n") + std::string("(fusion is off: tg.jit(f, fuse=False))");
    return r;
  }
  bool fuse() const { return fuse_; }

  void clear() {
    map_.clear();
    last_.reset();
    watch_.clear();
  }

  // Forgets the signatures whose static part `pred` accepts (a static argument was collected).
  // `pred` is Python and may itself change the map: decide on a snapshot, then erase.
  void drop_entries(const py::function& pred) {
    std::vector<std::pair<Key, std::shared_ptr<Entry>>> all, dead;
    for (const auto& kv : map_)
      for (const auto& e : kv.second) all.emplace_back(kv.first, e);
    for (const auto& p : all)
      if (!p.second->static_key.is_none() && pred(p.second->static_key).cast<bool>()) dead.push_back(p);
    for (const auto& p : dead) {
      if (last_ == p.second) last_.reset();
      auto it = map_.find(p.first);
      if (it == map_.end()) continue;
      auto& v = it->second;
      v.erase(std::remove(v.begin(), v.end(), p.second), v.end());
      if (v.empty()) map_.erase(it);
    }
  }

 private:
  using Key = SmallVec<int64_t, 16>;
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t h = 1469598103934665603ull;
      for (int64_t v : k) h = (h ^ uint64_t(v)) * 1099511628211ull;
      return size_t(h);
    }
  };
  // Where the function found a tensor by name when it was recorded: a closure cell (name None) or
  // a globals dict and the name, and the object it held.
  struct Binding {
    py::object where, name, value;
  };
  bool bindings_hold() const {
    for (const Binding& b : watch_) {
      PyObject* now;
      if (b.name.is_none()) {
        now = PyCell_Check(b.where.ptr()) ? PyCell_GET(b.where.ptr()) : nullptr;
      } else {
        now = PyDict_Check(b.where.ptr()) ? PyDict_GetItemWithError(b.where.ptr(), b.name.ptr()) : nullptr;
        if (!now && PyErr_Occurred()) PyErr_Clear();
      }
      if (now != b.value.ptr()) return false;
    }
    return true;
  }
  void note_bindings() {
    watch_.clear();
    if (bindings_.is_none() || fn_.is_none()) return;
    for (py::handle t : bindings_(fn_)) {
      py::tuple b = py::reinterpret_borrow<py::tuple>(t);
      watch_.push_back({py::reinterpret_borrow<py::object>(b[0]), py::reinterpret_borrow<py::object>(b[1]),
                        py::reinterpret_borrow<py::object>(b[2])});
    }
  }

  struct Compiled {
    std::shared_ptr<Program> prog;
    py::object tree;  // None: the function returned one Tensor
  };
  struct Entry {
    py::object static_key;
    std::vector<Compiled> progs;
    bool eager = false;
    std::string why;
    int64_t records = 0, replays = 0;
  };

  std::shared_ptr<Entry> entry(const Key& key, py::handle static_key, bool has_static) {
    if (map_.size() >= kMaxSignatures && map_.find(key) == map_.end()) clear();
    if (has_static) {
      // Comparing static keys runs Python (__eq__), which may collect an object and drop entries
      // (a weakly keyed static argument): compare on a copy, look the bucket up again after.
      auto it = map_.find(key);
      if (it != map_.end()) {
        const std::vector<std::shared_ptr<Entry>> bucket = it->second;
        for (const auto& e : bucket)
          if (e->static_key.equal(static_key)) return e;
      }
    } else {
      auto it = map_.find(key);
      if (it != map_.end() && !it->second.empty()) return it->second.front();
    }
    auto e = std::make_shared<Entry>();
    e->static_key = py::reinterpret_borrow<py::object>(static_key);
    map_[key].push_back(e);
    return e;
  }
  py::object build(const py::object& tree, const TensorList& outs) const {
    if (tree.is_none()) return py::cast(outs[0]);
    if (PyLong_CheckExact(tree.ptr())) {  // a plain tuple of Tensors (_flatten_out in _jit.py)
      py::tuple r(outs.size());
      for (size_t i = 0; i < outs.size(); ++i) r[i] = py::cast(outs[i]);
      return std::move(r);
    }
    py::list l;
    for (const Tensor& t : outs) l.append(py::cast(t));
    return unflatten_(tree, l);
  }

  py::object record(Entry& e, py::handle fn, py::tuple args) {
    auto level = std::make_shared<autodiff::TraceLevel>();
    py::tuple targs(args.size());
    for (size_t i = 0; i < args.size(); ++i) targs[i] = py::cast(level->track(as_tensor(args[i])));
    py::object out;
    {
      autodiff::ScopedLevel scope(level);
      out = fn(*targs);
      scope.pop();
    }
    TensorList outs;
    py::object tree = py::none();
    if (is_tensor(out)) {
      outs.push_back(as_tensor(out));
    } else {
      py::tuple fl = flatten_(out).cast<py::tuple>();
      for (py::handle h : fl[0]) outs.push_back(as_tensor(h));
      tree = fl[1];
    }
    TensorList values;
    std::shared_ptr<Program> prog = level->finish(outs, values);
    if (fuse_) autodiff::plan_fusion(*prog);
    note_bindings();
    ++e.records;
    if (prog->impure) {
      e.eager = true;
      e.why = prog->impure_reason ? prog->impure_reason : "not replayable";
      e.progs.clear();
    } else if (e.records > int64_t(kMaxPrograms) && e.replays < e.records) {
      e.eager = true;  // its decisions change on almost every call: recording costs more than it saves
      e.why = "its recorded decisions (bool/item/float of traced values) keep changing";
      e.progs.clear();
    } else {
      e.progs.insert(e.progs.begin(), Compiled{prog, tree});
      if (e.progs.size() > kMaxPrograms) e.progs.pop_back();
    }
    return build(tree, values);
  }

  py::object fn_, flatten_, unflatten_, bindings_;
  std::vector<Binding> watch_;
  bool fuse_ = true;
  std::unordered_map<Key, std::vector<std::shared_ptr<Entry>>, KeyHash> map_;
  std::shared_ptr<Entry> last_;  // the last signature seen, looked up without hashing
  Key last_key_;
};

}  // namespace

void bind_jit(py::module_& m) {
  py::class_<JitFunction>(m, "_JitFunction", py::custom_type_setup([](PyHeapTypeObject* heap_type) {
                            PyTypeObject* type = &heap_type->ht_type;
                            type->tp_flags |= Py_TPFLAGS_HAVE_GC;
                            type->tp_call = JitFunction::tp_call;
                            type->tp_traverse = JitFunction::tp_traverse;
                            type->tp_clear = JitFunction::tp_clear;
                          }))
      .def(py::init<py::object, py::object, py::object, py::object, bool>(), py::arg("fn"), py::arg("flatten"),
           py::arg("unflatten"), py::arg("bindings") = py::none(), py::arg("fuse") = true)
      // Each method goes through JitFunction::of, so an object made by __new__ alone raises.
      .def_property_readonly("_fn", [](py::handle self) { return JitFunction::of(self).fn(); })
      .def("_call", [](py::handle self, py::handle fn, py::tuple args,
                       py::handle key) { return JitFunction::of(self).call(fn, std::move(args), key); })
      .def("_stats", [](py::handle self) { return JitFunction::of(self).stats(); })
      .def("_clear", [](py::handle self) { JitFunction::of(self).clear(); })
      .def("_drop_entries", [](py::handle self, const py::function& pred) { JitFunction::of(self).drop_entries(pred); })
      .def_property_readonly("_fuse", [](py::handle self) { return JitFunction::of(self).fuse(); })
      .def("_explain", [](py::handle self) { return JitFunction::of(self).explain(); });
  // tg.memory_stats (python/tapegrad/_memory.py)
  m.def("_bytes_in_use", [] { return alloc::bytes_in_use(); });
  m.def("_peak_bytes_in_use", [] { return alloc::peak_bytes_in_use(); });
  m.def("_reset_peak_bytes", [] { alloc::reset_peak_bytes(); });
}

}  // namespace bind
}  // namespace tapegrad
