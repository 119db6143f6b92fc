// Sparse Jacobians and Hessians (python/tapegrad/_sparse.py arranges everything around these):
// a recording of a function as a program Python can read record by record, the colorings of
// transforms/coloring.h on numpy CSR arrays, and the later calls' compressed sweep with its
// decompression (Note [Compressed sweeps]).
#include <optional>
#include "autodiff/fusion.h"
#include "autodiff/gathered.h"
#include "autodiff/trace.h"
#include "transforms/coloring.h"
#include "transforms/compressed.h"
#include "transforms/patterns.h"

#include "bindings/common.h"

namespace tapegrad {
namespace bind {

namespace {

using autodiff::Program;

py::tuple shape_tuple(const Shape& s) {
  py::tuple t(s.size());
  for (size_t i = 0; i < s.size(); ++i) t[i] = s[i];
  return t;
}

// fn(*args) recorded by the tg.jit recorder; fn returns one Tensor.
std::shared_ptr<Program> record(py::handle fn, py::tuple args) {
  auto level = std::make_shared<autodiff::TraceLevel>();
  py::tuple targs(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    TG_CHECK_TYPE(is_tensor(args[i]), "sparse: arguments must be Tensors, got ", Py_TYPE(args[i].ptr())->tp_name);
    targs[i] = py::cast(level->track(as_tensor(args[i])));
  }
  py::object out;
  {
    autodiff::ScopedLevel scope(level);
    out = fn(*targs);
    scope.pop();
  }
  TG_CHECK_TYPE(is_tensor(out), "sparse: the function must return one Tensor, got ", Py_TYPE(out.ptr())->tp_name);
  TensorList outs{as_tensor(out)}, values;
  return level->finish(outs, values);
}

// Record k as a tuple (name, nondiff, ints, scalar, flag, dtype, in slots, out slots, out shapes,
// out dtypes).
py::tuple record_tuple(const Program::Rec& r) {
  py::list ints, ins, outs, shapes, dtypes;
  for (int64_t v : r.attrs.ints) ints.append(v);
  for (int32_t s : r.in) ins.append(s);
  for (int32_t s : r.out) outs.append(s);
  for (const Shape& s : r.out_shapes) shapes.append(shape_tuple(s));
  for (DType d : r.out_dtypes) dtypes.append(dtype_object(d));
  return py::make_tuple(r.prim->name, r.prim->nondiff, ints, r.attrs.scalar, r.attrs.flag, dtype_object(r.attrs.dtype),
                        ins, outs, shapes, dtypes);
}

using I64 = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;
using I32 = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

void check_csr(const I64& indptr, const I64& indices, int64_t n_rows, const char* op) {
  TG_CHECK(indptr.ndim() == 1 && indices.ndim() == 1, op, ": indptr and indices must be 1-d");
  TG_CHECK(n_rows >= 0 && indptr.size() == n_rows + 1, op, ": indptr has ", indptr.size(), " entries, expected ",
           n_rows + 1);
  TG_CHECK(indptr.at(n_rows) <= indices.size(), op, ": indptr ends at ", indptr.at(n_rows), " but indices has ",
           indices.size(), " entries");
}

py::array_t<int32_t> to_array(const std::vector<int32_t>& v) {
  py::array_t<int32_t> a(py::ssize_t(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// A vector handed to numpy without a copy: the array owns it.
template <class T>
py::array_t<T> owned_array(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(py::ssize_t(heap->size()), heap->data(), owner);
}

// transforms::pattern_union on parts (indptr, indices, rows, map or None, canonical) of numpy
// arrays: int32
// index arrays are read as they are when every part has them (scipy's usual choice), else all as
// int64. The result's index arrays are int32 where its entries and columns fit, as scipy would
// make them.
template <class I>
py::tuple pattern_union_as(const py::list& parts, int64_t n_out, int64_t n_cols) {
  using Arr = py::array_t<I, py::array::c_style | py::array::forcecast>;
  std::vector<Arr> keep;
  std::vector<I64> maps;
  std::vector<transforms::PatternPart<I>> ps;
  for (py::handle h : parts) {
    auto t = py::reinterpret_borrow<py::tuple>(h);
    TG_CHECK(t.size() == 5, "pattern_union: a part is (indptr, indices, rows, map, canonical)");
    Arr indptr = t[0].cast<Arr>(), indices = t[1].cast<Arr>();
    const int64_t rows = t[2].cast<int64_t>();
    TG_CHECK(rows >= 0 && indptr.ndim() == 1 && indices.ndim() == 1 && indptr.size() == rows + 1,
             "pattern_union: indptr has ", indptr.size(), " entries for ", rows, " rows");
    TG_CHECK(int64_t(indptr.data()[rows]) <= int64_t(indices.size()), "pattern_union: indptr ends at ",
             int64_t(indptr.data()[rows]), " but indices has ", indices.size(), " entries");
    transforms::PatternPart<I> p;
    p.indptr = indptr.data();
    p.indices = indices.data();
    p.rows = rows;
    p.canonical = t[4].cast<bool>();
    if (!t[3].is_none()) {
      I64 m = t[3].cast<I64>();
      TG_CHECK(m.ndim() == 1 && m.size() == n_out, "pattern_union: a row map has ", m.size(), " entries for ", n_out,
               " rows");
      p.map = m.data();
      maps.push_back(std::move(m));
    }
    keep.push_back(std::move(indptr));
    keep.push_back(std::move(indices));
    ps.push_back(p);
  }
  TG_CHECK(n_cols >= 0, "pattern_union: negative column count ", n_cols);
  const int64_t bound = transforms::pattern_union_bound(ps, n_out);
  auto run = [&](auto zero) {
    using O = decltype(zero);
    std::vector<O> indptr;
    std::unique_ptr<O[]> indices;
    int64_t nnz = 0;
    transforms::pattern_union(ps, n_out, n_cols, bound, indptr, indices, &nnz);
    O* raw = indices.release();
    py::capsule owner(raw, [](void* q) { delete[] static_cast<O*>(q); });
    return py::make_tuple(owned_array(std::move(indptr)), py::array_t<O>(py::ssize_t(nnz), raw, owner));
  };
  if (bound <= int64_t(INT32_MAX) && n_cols <= int64_t(INT32_MAX)) return run(int32_t(0));
  return run(int64_t(0));
}

py::tuple pattern_union(const py::list& parts, int64_t n_out, int64_t n_cols) {
  bool narrow = true;
  for (py::handle h : parts) {
    auto t = py::reinterpret_borrow<py::tuple>(h);
    for (size_t i = 0; i < 2 && i < t.size(); ++i)
      narrow = narrow && py::isinstance<py::array_t<int32_t>>(t[i]) &&
               (py::reinterpret_borrow<py::array>(t[i]).flags() & py::array::c_style);
  }
  return narrow ? pattern_union_as<int32_t>(parts, n_out, n_cols) : pattern_union_as<int64_t>(parts, n_out, n_cols);
}

transforms::ColorOrder parse_order(const std::string& s) {
  if (s == "natural") return transforms::ColorOrder::Natural;
  if (s == "largest_first") return transforms::ColorOrder::LargestFirst;
  if (s == "smallest_last") return transforms::ColorOrder::SmallestLast;
  if (s == "dsatur") return transforms::ColorOrder::Dsatur;
  TG_CHECK(false, "coloring: order must be 'natural', 'largest_first', 'smallest_last' or 'dsatur', got '", s, "'");
  return transforms::ColorOrder::Natural;
}

// A later call of a SparseJacobian/SparseHessian (Note [Compressed sweeps]): the sweep fn(x, *fixed)
// recorded once, its fixed part folded, replayed on each x and decompressed into the CSR value
// array. call() returns None where it cannot answer (a signature other than the recorded one, x
// tracked by a transform or on another device, a program that cannot be replayed, a replay that
// gives up): Python then takes the general path (tg.jit of the sweep) and gather() decompresses.
class CompressedSweep {
 public:
  CompressedSweep(py::handle fn, const Tensor& x, const std::vector<Tensor>& fixed, const I64& take, int64_t size,
                  bool fuse, bool gathered)
      : shape_(x.shape()), dtype_(x.dtype()), fixed_(fixed.begin(), fixed.end()), size_(size) {
    TG_CHECK(take.ndim() == 1, "sparse: take must be 1-d");
    TG_CHECK(size >= 0, "sparse: size must be >= 0");
    count_ = int64_t(take.size());
    const int64_t* t = take.data();
    for (int64_t i = 0; i < count_; ++i)
      TG_CHECK_INDEX(t[i] >= 0 && t[i] < size, "sparse: take[", i, "] = ", t[i], " outside the sweep's ", size,
                     " values");
    // 32-bit indices where they fit: half the index traffic of the gather.
    if (size <= int64_t(INT32_MAX)) take32_.assign(t, t + count_);
    else take64_.assign(t, t + count_);
    py::tuple args(1 + fixed_.size());
    args[0] = py::cast(x);
    for (size_t i = 0; i < fixed_.size(); ++i) args[i + 1] = py::cast(fixed_[i]);
    std::shared_ptr<Program> rec = record(fn, args);
    std::vector<Tensor> fixed_slots;
    prog_ = transforms::fold_fixed_inputs(*rec, 1, fixed_, &stats_, &fixed_slots);
    if (prog_ && fuse) {
      autodiff::plan_fusion(*prog_);
      // Note [Gathered tail]: the last group computes only the non-zeros, straight into the result.
      if (gathered) tail_ = autodiff::plan_gathered_tail(*prog_, fixed_slots, t, count_);
      // The tail and its head replace the folded program: its constants (the compressed matrix's
      // fixed part, k times the output) are not kept.
      if (tail_) prog_.reset();
    }
  }

  py::object call(const Tensor& x) const {
    if ((!prog_ && !tail_) || !x.defined() || x.tracked() || !x.has_data() || x.device() != Device::CPU ||
        x.shape() != shape_ || x.dtype() != dtype_ || autodiff::any_level_active())
      return py::none();
    TensorList ins{x};
    for (const Tensor& f : fixed_) ins.push_back(f);
    Tensor data;
    auto run = [&] {
      if (tail_) {
        data = autodiff::run_gathered_tail(*tail_, ins);
        return;
      }
      TensorList outs;
      if (prog_->replay(ins, outs) && outs.size() == 1) data = decompress(outs[0]);
    };
    if (x.numel() + count_ >= kReleaseGil) {
      // A large replay runs without the GIL, as tg.jit's does (Note [Concurrent writes]).
      py::gil_scoped_release nogil;
      SharedDataLock lock;
      run();
    } else {
      run();
    }
    if (!data.defined()) return py::none();
    return to_numpy_view(data, true);
  }

  // The decompression of a sweep computed elsewhere (the general path), as a numpy array.
  py::array gather(const py::array& b) const {
    py::array a = py::array::ensure(b, py::array::c_style);
    TG_CHECK(a && int64_t(a.size()) == size_, "sparse: the sweep has ", a ? int64_t(a.size()) : -1,
             " values, expected ", size_);
    const size_t isz = size_t(a.itemsize());
    py::array out(a.dtype(), std::vector<py::ssize_t>{py::ssize_t(count_)});
    gather_into(a.data(), isz, out.mutable_data());
    return out;
  }

  int64_t folded() const { return stats_.folded; }
  int64_t kept() const { return prog_ || tail_ ? stats_.kept : -1; }
  bool gathered() const { return bool(tail_); }
  std::string explain() const {
    if (tail_) return autodiff::explain_gathered_tail(*tail_);
    return prog_ ? autodiff::explain_fusion(*prog_) : std::string("not replayable");
  }

 private:
  Tensor decompress(const Tensor& b0) const {
    if (!b0.defined() || b0.tracked() || !b0.has_data() || b0.device() != Device::CPU || b0.numel() != size_)
      return Tensor();
    Tensor b = b0.is_contiguous() ? b0 : b0.contiguous();
    Tensor out = Tensor::empty(Shape{count_}, b.dtype());
    gather_into(b.raw_data(), itemsize(b.dtype()), out.raw_data());
    return out;
  }
  void gather_into(const void* src, size_t isz, void* dst) const {
    if (take64_.empty()) transforms::gather_elements(src, isz, take32_.data(), count_, dst);
    else transforms::gather_elements(src, isz, take64_.data(), count_, dst);
  }

  Shape shape_;
  DType dtype_;
  TensorList fixed_;
  int64_t size_ = 0, count_ = 0;
  std::vector<int32_t> take32_;
  std::vector<int64_t> take64_;
  std::shared_ptr<Program> prog_;
  std::shared_ptr<const autodiff::GatheredTail> tail_;
  transforms::FoldStats stats_;
};

}  // namespace

void bind_sparse(py::module_& m) {
  py::class_<Program, std::shared_ptr<Program>>(m, "_SparseProgram")
      .def_property_readonly("num_inputs", [](const Program& p) { return p.num_inputs; })
      .def_property_readonly("num_slots", [](const Program& p) { return p.num_slots; })
      .def_property_readonly("outputs",
                             [](const Program& p) { return std::vector<int32_t>(p.outputs.begin(), p.outputs.end()); })
      .def_property_readonly("impure_reason",
                             [](const Program& p) -> py::object {
                               if (!p.impure) return py::none();
                               return py::str(p.impure_reason ? p.impure_reason : "not replayable");
                             })
      // Slots whose values the recording fixed by a guard (a bool()/item() of a traced value).
      .def_property_readonly("guard_slots",
                             [](const Program& p) {
                               std::vector<int32_t> v;
                               for (const Program::Guard& g : p.guards) v.push_back(g.slot);
                               return v;
                             })
      .def("records",
           [](const Program& p) {
             py::list l;
             for (const Program::Rec& r : p.recs) l.append(record_tuple(r));
             return l;
           })
      .def("constants",
           [](const Program& p) {
             py::list l;
             for (const Program::Constant& c : p.constants) l.append(py::make_tuple(c.slot, py::cast(c.value)));
             return l;
           })
      // Every slot's value for the given inputs (each record's forward on plain values, nothing
      // released): what the rules read for index arrays computed inside the function.
      .def("values",
           [](const Program& p, const std::vector<Tensor>& inputs) {
             TG_CHECK(int64_t(inputs.size()) == p.num_inputs, "sparse: the program takes ", p.num_inputs,
                      " inputs, got ", inputs.size());
             std::vector<Tensor> slot(size_t(p.num_slots));
             for (size_t i = 0; i < inputs.size(); ++i) slot[i] = inputs[i];
             for (const Program::Constant& c : p.constants) slot[size_t(c.slot)] = c.value;
             for (const Program::Rec& r : p.recs) {
               TensorList in;
               for (int32_t s : r.in) in.push_back(s >= 0 ? slot[size_t(s)] : Tensor());
               TensorList out = r.prim->impl(in, r.attrs);
               for (size_t j = 0; j < out.size() && j < r.out.size(); ++j) slot[size_t(r.out[j])] = out[j];
             }
             py::list l;
             for (const Tensor& t : slot) l.append(t.defined() ? py::cast(t) : py::none());
             return l;
           })
      // Record k's forward on the given plain values (None for an undefined input).
      .def("run_record", [](const Program& p, int64_t k, const std::vector<std::optional<Tensor>>& inputs) {
        TG_CHECK_INDEX(k >= 0 && k < int64_t(p.recs.size()), "sparse: record ", k, " out of range");
        const Program::Rec& r = p.recs[size_t(k)];
        TensorList in;
        for (const auto& t : inputs) in.push_back(t ? *t : Tensor());
        TensorList out = r.prim->impl(in, r.attrs);
        return std::vector<Tensor>(out.begin(), out.end());
      });
  m.def("_sparse_record", &record, "fn(*args) recorded as a program (sparsity detection)");
  py::class_<CompressedSweep>(m, "_CompressedSweep")
      .def(py::init<py::handle, const Tensor&, const std::vector<Tensor>&, const I64&, int64_t, bool, bool>(),
           py::arg("fn"), py::arg("x"), py::arg("fixed"), py::arg("take"), py::arg("size"), py::arg("fuse") = true,
           py::arg("gathered") = true)
      .def("__call__", &CompressedSweep::call, py::arg("x"))
      .def("gather", &CompressedSweep::gather, py::arg("b"))
      .def_property_readonly("folded", &CompressedSweep::folded)
      .def_property_readonly("kept", &CompressedSweep::kept)
      .def_property_readonly("gathered", &CompressedSweep::gathered)
      .def("explain", &CompressedSweep::explain);
  m.def(
      "_color_columns",
      [](const I64& indptr, const I64& indices, int64_t n_rows, int64_t n_cols, const std::string& order) {
        check_csr(indptr, indices, n_rows, "color_columns");
        TG_CHECK(n_cols >= 0, "color_columns: n_cols must be >= 0");
        std::vector<int32_t> c;
        {
          py::gil_scoped_release nogil;
          c = transforms::color_columns(indptr.data(), indices.data(), n_rows, n_cols, parse_order(order));
        }
        return to_array(c);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n_rows"), py::arg("n_cols"), py::arg("order") = "largest_first");
  m.def("_pattern_union", &pattern_union, py::arg("parts"), py::arg("n_out"), py::arg("n_cols"),
        "CSR (indptr, indices) whose row r is the union of the parts' rows mapped to r (sparsity detection)");
  m.def(
      "_star_color",
      [](const I64& indptr, const I64& indices, int64_t n, const std::string& order) {
        check_csr(indptr, indices, n, "star_color");
        std::vector<int32_t> c;
        {
          py::gil_scoped_release nogil;
          c = transforms::star_color(indptr.data(), indices.data(), n, parse_order(order));
        }
        return to_array(c);
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n"), py::arg("order") = "largest_first");
  m.def(
      "_star_recovery",
      [](const I64& indptr, const I64& indices, int64_t n, const I32& colors, int32_t num_colors) {
        check_csr(indptr, indices, n, "star_recovery");
        TG_CHECK(colors.ndim() == 1 && colors.size() == n, "star_recovery: colors must have ", n, " entries");
        std::vector<int64_t> pos =
            transforms::star_recovery(indptr.data(), indices.data(), n, colors.data(), num_colors);
        py::array_t<int64_t> a(py::ssize_t(pos.size()));
        std::copy(pos.begin(), pos.end(), a.mutable_data());
        return a;
      },
      py::arg("indptr"), py::arg("indices"), py::arg("n"), py::arg("colors"), py::arg("num_colors"));
}

}  // namespace bind
}  // namespace tapegrad
