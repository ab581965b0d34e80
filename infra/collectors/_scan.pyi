import numpy as np
import numpy.typing as npt

def remote_write_v1(
    data: bytes,
) -> tuple[list[bytes], npt.NDArray[np.int64], npt.NDArray[np.float64]] | None: ...
def line_protocol(
    data: bytes, suffix: bytes
) -> tuple[list[bytes], npt.NDArray[np.float64], npt.NDArray[np.int64] | None] | None: ...
def lookup(known: dict[object, int], keys: list[object]) -> npt.NDArray[np.int64]: ...
