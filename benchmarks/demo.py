"""A demo explorer the size of chapter 3's (2448 settings, 601 points x 3 lines).

Recorded and driven by bench_static_explorer.py (its default page); synthetic curves,
so it needs no chapter code. Large learning rates diverge: the weights jump between huge values of
both signs, which matplotlib draws as a solid wall of colour.
"""

import numpy as np

import convergence_lab as cl

BATCHES = [1, 10, 100, 1000]
SCALES = [1, 10, 100]
INITS = ["PyTorch default", "[[2, 3]] (2-D)", "[2, 3] (1-D)"]
OPTIMIZERS = ["RMSprop", "SGD"]
STEPS = 3000
STEPS_SHOWN = np.arange(0, STEPS + 1, 5)


def setup(axes):
    ax_l, ax_w = axes
    ax_l.set(xlim=(0, STEPS), ylim=(0.3, 1e7), yscale="log", xlabel="step",
             ylabel="batch loss")
    ax_w.set(xlim=(0, STEPS), ylim=(-0.5, 1.5), xlabel="step", ylabel="weight")
    ax_w.axhline(1, color=cl.COLORS["target"], ls="--", lw=1)
    art = {
        "loss": ax_l.plot([], [], color=cl.COLORS["neutral"], lw=0.8)[0],
        "w1": ax_w.plot([], [], color=cl.COLORS["neutral"], label="w1")[0],
        "w2": ax_w.plot([], [], color=cl.COLORS["better"], label="w2")[0],
        "title": ax_l.set_title(" "), "title_w": ax_w.set_title(" "),
        "verdict": ax_l.text(0.5, 0.9, "", transform=ax_l.transAxes, ha="center",
                             fontsize=11, fontweight="bold", color=cl.COLORS["fail"]),
    }
    ax_w.legend(loc="lower right")
    return art


def curves(batch_size, scale, lr, init, optimizer, fix_shape):
    t = STEPS_SHOWN.astype(float)
    rate = lr * scale**2 * (0.5 if optimizer == "SGD" else 1.0) / (1 + 0.1 * np.log10(batch_size))
    start = {"PyTorch default": 0.2, "[[2, 3]] (2-D)": 1.3, "[2, 3] (1-D)": -0.3}[init]
    target = 1.0 if fix_shape else 0.4
    if rate > 2:  # diverges: growing oscillation
        with np.errstate(over="ignore"):
            w = start + (-1.0) ** np.arange(len(t)) * np.exp(np.minimum(t * 0.05, 700))
        loss = np.exp(np.minimum(t * 0.1, 700))
        return loss, w, -w, int(np.argmax(np.abs(w) > 1e6))
    decay = np.exp(-min(rate, 1.0) * t / 50)
    w1 = target + (start - target) * decay
    w2 = target + (start - target) * decay**0.5
    loss = 1 + 1e4 * decay * (1 + 0.1 * np.sin(t / (7 + batch_size)))
    return loss, w1, w2, -1


def draw(art, batch_size, scale, lr, init, optimizer, fix_shape):
    if batch_size == 1000 and scale == 1 and init == "[2, 3] (1-D)":
        raise cl.LessonInputError("This demo refuses batch 1000 at scale 1 with 1-D weights.")
    loss, w1, w2, diverged = curves(batch_size, scale, lr, init, optimizer, fix_shape)
    art["loss"].set_data(STEPS_SHOWN, loss)
    art["w1"].set_data(STEPS_SHOWN, w1)
    art["w2"].set_data(STEPS_SHOWN, w2)
    art["title"].set_text(f"{optimizer} lr {lr:.0e}, batch {batch_size}")
    art["title_w"].set_text(f"final w1 {w1[-1]:.3g}" if diverged < 0 else "w overflowed")
    art["verdict"].set_text(f"DIVERGED at step {5 * diverged}" if diverged >= 0 else "")


def controls(n_lr_steps=0.5):
    return {
        "batch_size": cl.choice("batch size", BATCHES, 100),
        "scale": cl.choice("input scale (std)", SCALES, 100),
        "lr": cl.log_slider("learning rate", 1e-2, 1e-6, 1e2, step=n_lr_steps,
                            learning_rate=True),
        "init": cl.choice("initial weights", INITS, "PyTorch default"),
        "optimizer": cl.choice("optimizer", OPTIMIZERS, "RMSprop"),
        "fix_shape": cl.toggle("reshape the target (the fix)", False),
    }


def demo_explorer(**kwargs):
    """The chapter-3-sized demo; keyword arguments go to :class:`Explorer`."""
    return cl.Explorer(setup, draw, controls(), layout=(1, 2), figsize=(10, 3.4), **kwargs)
