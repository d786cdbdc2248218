"""effmod's ML-program executor: runs Core ML ``.mlpackage`` files where Core ML itself cannot
(Linux CI), from the package's protobuf spec and weight blob, with fp16 rounding per op."""
from .executor import ExecutionError, Executor, NonFinite, RunStats, UnsupportedOp
from .ops import KERNELS
from .program import Op, Program, load_program

__all__ = ["load_program", "Executor", "Program", "Op", "KERNELS", "UnsupportedOp", "ExecutionError",
           "NonFinite", "RunStats"]
