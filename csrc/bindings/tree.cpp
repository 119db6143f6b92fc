// Pytree flatten/unflatten in C++ (Note [Pytrees in C]).
#include <algorithm>
#include <vector>

#include "bindings/common.h"

namespace tapegrad {
namespace bind {

// Note [Pytrees in C]
// ~~~~~~~~~~~~~~~~~~~
// _core._tree_flatten(tree, is_leaf) and _core._tree_unflatten(treedef, leaves) are the
// transforms' pytree flatten and unflatten (python/tapegrad/_tree.py binds them; its Python
// functions stay as the reference the tests compare with). They build and read the same tree
// definitions as the Python functions -- ("leaf",), ("tuple", children), ("namedtuple", type,
// children), ("list", children), ("dict", keys sorted by repr, children) -- so either side reads the
// other's. Each node asks is_leaf first (it may take a list of numbers as one leaf), then
// tuple (with `_fields`: a namedtuple), list, dict, else a leaf, as the Python function does;
// deep trees raise RecursionError through Python's own recursion limit.

namespace {

struct TreeNames {
  py::str leaf{"leaf"}, tuple{"tuple"}, namedtuple{"namedtuple"}, list{"list"}, dict{"dict"}, fields{"_fields"};
  py::tuple leaf_def;
  TreeNames() : leaf_def(py::make_tuple(leaf)) {}
};

TreeNames& names() {
  static TreeNames* n = new TreeNames();  // never destroyed: outlives the interpreter's teardown
  return *n;
}

class RecursionGuard {
 public:
  explicit RecursionGuard(const char* where) {
    if (Py_EnterRecursiveCall(where)) throw py::error_already_set();
  }
  ~RecursionGuard() { Py_LeaveRecursiveCall(); }
  RecursionGuard(const RecursionGuard&) = delete;
  RecursionGuard& operator=(const RecursionGuard&) = delete;
};

// The children of a tuple or list node, flattened in order, as a tuple of their definitions.
py::tuple flatten_children(py::handle seq, py::handle is_leaf, py::list& leaves);

py::object flatten_node(py::handle x, py::handle is_leaf, py::list& leaves) {
  RecursionGuard guard(" in a pytree flatten");
  TreeNames& n = names();
  PyObject* r = PyObject_CallOneArg(is_leaf.ptr(), x.ptr());
  if (!r) throw py::error_already_set();
  const int leaf = PyObject_IsTrue(r);
  Py_DECREF(r);
  if (leaf < 0) throw py::error_already_set();
  if (leaf) {
    leaves.append(x);
    return n.leaf_def;
  }
  if (PyTuple_Check(x.ptr())) {
    if (!py::hasattr(x, n.fields)) return py::make_tuple(n.tuple, flatten_children(x, is_leaf, leaves));
    return py::make_tuple(n.namedtuple, py::type::handle_of(x), flatten_children(x, is_leaf, leaves));
  }
  if (PyList_Check(x.ptr())) return py::make_tuple(n.list, flatten_children(x, is_leaf, leaves));
  if (PyDict_Check(x.ptr())) {
    // keys sorted by repr, ties in the dict's order (Python's sorted is stable)
    py::list keys = py::reinterpret_steal<py::list>(PyDict_Keys(x.ptr()));
    if (!keys) throw py::error_already_set();
    const size_t k = keys.size();
    std::vector<py::object> reprs;
    reprs.reserve(k);
    for (py::handle key : keys) reprs.push_back(py::repr(key));
    std::vector<size_t> order(k);
    for (size_t i = 0; i < k; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return PyUnicode_Compare(reprs[a].ptr(), reprs[b].ptr()) < 0;  // str vs str: never an error
    });
    py::tuple sorted_keys(k), children(k);
    for (size_t i = 0; i < k; ++i) {
      py::handle key = keys[order[i]];
      sorted_keys[i] = key;
      py::object v = py::reinterpret_steal<py::object>(PyObject_GetItem(x.ptr(), key.ptr()));
      if (!v) throw py::error_already_set();
      children[i] = flatten_node(v, is_leaf, leaves);
    }
    return py::make_tuple(n.dict, sorted_keys, children);
  }
  leaves.append(x);
  return n.leaf_def;
}

py::tuple flatten_children(py::handle seq, py::handle is_leaf, py::list& leaves) {
  // Through the iterator protocol, as the Python function's generator (a subclass may override it).
  py::list items;
  for (py::handle v : seq) items.append(v);
  py::tuple out(items.size());
  for (size_t i = 0; i < items.size(); ++i) out[i] = flatten_node(items[i], is_leaf, leaves);
  return out;
}

py::object unflatten_node(py::handle def, PyObject* leaves, Py_ssize_t& next) {
  RecursionGuard guard(" in a pytree unflatten");
  TreeNames& n = names();
  TG_CHECK_T(TypeError, PyTuple_Check(def.ptr()) && PyTuple_GET_SIZE(def.ptr()) >= 1,
             "unflatten: a tree definition is a tuple from flatten, got ", Py_TYPE(def.ptr())->tp_name);
  py::handle kind = PyTuple_GET_ITEM(def.ptr(), 0);
  auto children = [&](Py_ssize_t at) {
    py::handle c = PyTuple_GET_ITEM(def.ptr(), at);
    TG_CHECK_T(TypeError, PyTuple_Check(c.ptr()), "unflatten: malformed tree definition");
    return py::reinterpret_borrow<py::tuple>(c);
  };
  const Py_ssize_t size = PyTuple_GET_SIZE(def.ptr());
  if (kind.equal(n.leaf)) {
    TG_CHECK_T(ValueError, next < PyList_GET_SIZE(leaves), "unflatten: fewer leaves than the tree definition has");
    return py::reinterpret_borrow<py::object>(PyList_GET_ITEM(leaves, next++));
  }
  if ((kind.equal(n.tuple) || kind.equal(n.list)) && size == 2) {
    py::tuple cs = children(1);
    const bool is_list = kind.equal(n.list);
    py::list items(cs.size());
    for (size_t i = 0; i < cs.size(); ++i) items[i] = unflatten_node(cs[i], leaves, next);
    return is_list ? py::object(items) : py::object(py::tuple(items));
  }
  if (kind.equal(n.namedtuple) && size == 3) {
    py::tuple cs = children(2);
    py::tuple items(cs.size());
    for (size_t i = 0; i < cs.size(); ++i) items[i] = unflatten_node(cs[i], leaves, next);
    py::object r =
        py::reinterpret_steal<py::object>(PyObject_Call(PyTuple_GET_ITEM(def.ptr(), 1), items.ptr(), nullptr));
    if (!r) throw py::error_already_set();
    return r;
  }
  if (kind.equal(n.dict) && size == 3) {
    py::tuple keys = children(1), cs = children(2);
    TG_CHECK_T(TypeError, keys.size() == cs.size(), "unflatten: malformed tree definition");
    py::dict d;
    for (size_t i = 0; i < cs.size(); ++i) d[keys[i]] = unflatten_node(cs[i], leaves, next);
    return std::move(d);
  }
  TG_CHECK_T(TypeError, false, "unflatten: unknown tree node ", py::repr(kind).cast<std::string>());
  return py::none();
}

}  // namespace

void bind_tree(py::module_& m) {
  m.def(
      "_tree_flatten",
      [](py::handle tree, py::handle is_leaf) {
        py::list leaves;
        py::object def = flatten_node(tree, is_leaf, leaves);
        return py::make_tuple(leaves, def);
      },
      "(leaves, treedef) of a pytree of tuples, lists and dicts (Note [Pytrees in C]).");
  m.def(
      "_tree_unflatten",
      [](py::handle treedef, py::handle leaves) {
        py::list ls = PyList_CheckExact(leaves.ptr()) ? py::reinterpret_borrow<py::list>(leaves)
                                                      : py::reinterpret_steal<py::list>(PySequence_List(leaves.ptr()));
        if (!ls) throw py::error_already_set();
        Py_ssize_t next = 0;
        return unflatten_node(treedef, ls.ptr(), next);
      },
      "The pytree of `treedef` with the leaves in order (Note [Pytrees in C]).");
}

}  // namespace bind
}  // namespace tapegrad
