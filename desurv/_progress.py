"""Progress bars on stderr for long loops (random starts, iterations, CV paths)."""

from __future__ import annotations

import sys


class Progress:
    """A tqdm bar on stderr whose rate and ETA are measured from its second step on.

    The first step of a fit (a random start, an iteration, a CV path) includes compiling the
    kernels, which would give an absurd ETA; the bar is therefore drawn only once the first
    step is done, starting its clock there (tqdm's ``initial=``). Also usable as the
    ``callback(iteration, objective)`` of :meth:`DeSurv.fit`.
    """

    def __init__(self, total, enabled, desc="DeSurv", unit="it"):
        self.total, self.desc, self.unit = total, desc, unit
        self.enabled = enabled
        self.bar = None
        self.n = 0

    def update(self, n=1, postfix=None):
        self.n += n
        if not self.enabled:
            return
        if self.bar is None:
            try:
                from tqdm import tqdm
            except ImportError:  # progress is a nicety, not a requirement
                self.enabled = False
                return
            self.bar = tqdm(
                total=self.total,
                initial=self.n,
                desc=self.desc,
                unit=self.unit,
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        else:
            self.bar.update(n)
        if postfix is not None:
            self.bar.set_postfix_str(postfix, refresh=False)

    def __call__(self, it, obj=None, *rest):
        loss = getattr(obj, "loss", None)
        self.update(1, postfix=f"loss={loss:.6g}" if loss is not None and it % 10 == 0 else None)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
