"""The distribution layer: the only package that imports Ray.

- `cluster`: start a private local Ray or attach to a cluster (`connect`), name a dead node
  (`check_ray_alive`), where Ray's logs are (`session_logs_dir`);
- `watchdog`: end a local Ray session's processes when its driver is gone;
- `pool`: `RayExecutor`, evaluation on a pool of long-lived actors (the `Executor` interface);
- `islands`: `RayIslands`, island searches as long-lived actors (`wann.search.islands` on Ray);
- `cells`: `RayCellRunner`, a study's cells as Ray tasks (the `CellRunner` interface).
"""

from wann.distributed.cells import RayCellRunner
from wann.distributed.cluster import check_ray_alive, connect, session_logs_dir
from wann.distributed.islands import RayIslands
from wann.distributed.pool import RayExecutor

__all__ = ["RayCellRunner", "RayExecutor", "RayIslands", "check_ray_alive", "connect", "session_logs_dir"]
