"""The 3D view's first frame compiles the point shader, so a run's first preview step is cheap."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class ShaderWarmup:
    """One point behind the camera, drawn (unseen) by the first frame, then removed.

    Software GL compiles a shader program in the frame that first draws it (15-20 ms on
    llvmpipe), and the first preview step of every run paid it on the GUI thread. VTK keeps
    programs per render window by source, so the cloud actor made later reuses this one's.
    Culling is off meanwhile: VTK skips an actor outside the view without compiling anything."""

    def __init__(self, plotter, add_actor: Callable[[np.ndarray], object]) -> None:
        self.plotter = plotter
        camera = plotter.camera
        eye, focus = np.array(camera.position), np.array(camera.focal_point)
        behind = (eye + (eye - focus)).astype(np.float32)[None]  # (1, 3)
        cullers = plotter.renderer.GetCullers()
        self._cullers = [cullers.GetItemAsObject(i) for i in range(cullers.GetNumberOfItems())]
        cullers.RemoveAllItems()
        self.actor = add_actor(behind)

    def finish(self) -> None:
        """After the first frame: the actor goes, culling comes back (idempotent)."""
        if self.actor is None:
            return
        self.plotter.remove_actor(self.actor, render=False)
        self.actor = None
        for culler in self._cullers:
            self.plotter.renderer.GetCullers().AddItem(culler)
