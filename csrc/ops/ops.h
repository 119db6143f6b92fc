// The C++ op API. Every function takes possibly-tracked tensors: untracked inputs go straight to
// the forward (the hot path), tracked ones go through autodiff::apply and the prim's rules.
// One header per family; this one gathers them.
#pragma once
#include "ops/common.h"
#include "ops/complex.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/shape.h"
