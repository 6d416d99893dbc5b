"""REINFORCE with a softmax policy on a toy telescope-scheduling task.

The lecture's outlook names observation scheduling for telescopes as an application
of reinforcement learning. A toy version: one night has ``slots`` time slots and there
are ``targets`` fields on the sky. Field k culminates (is highest, least airmass) at its
own slot; observing it scores ``max(0, 1 − |t − transit_k| / width)``, and observing a
field a second time scores nothing. In each slot the telescope picks a field.

The policy is a softmax over a linear function of the state (one-hot time slot and
which fields were already observed): π(a | s) = softmax(W s + b). REINFORCE raises
the log-probability of the actions taken in proportion to the return that followed
(minus a running-average baseline):

    loss = − Σ_t log π(a_t | s_t) · (G_t − baseline),

and ``backward()`` gives its gradient through ``log_softmax`` and indexing.

Run it::

    python examples/telescope_reinforce.py
"""

from __future__ import annotations

import functools

import numpy as np

import autograd_lite as al


class Night:
    """The toy environment: ``slots`` time slots, ``targets`` fields with given transit slots."""

    def __init__(self, slots: int = 6, targets: int = 4, width: float = 2.0, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.slots, self.targets, self.width = slots, targets, width
        self.transit = np.sort(rng.uniform(0, slots - 1, size=targets))

    def score(self, t: int, k: int) -> float:
        """Observation quality of field k at slot t (1 at culmination, 0 when too low)."""
        return max(0.0, 1.0 - abs(t - self.transit[k]) / self.width)

    def state(self, t: int, observed: np.ndarray) -> np.ndarray:
        """Features: one-hot time slot, then 1 for each field already observed."""
        onehot = np.zeros(self.slots)
        onehot[t] = 1.0
        return np.concatenate([onehot, observed])

    def step_reward(self, t: int, k: int, observed: np.ndarray) -> float:
        return 0.0 if observed[k] else self.score(t, k)

    def best_return(self) -> float:
        """The optimal schedule's return, by dynamic programming over (slot, observed set)."""

        @functools.cache
        def best(t: int, mask: int) -> float:
            if t == self.slots:
                return 0.0
            options = [best(t + 1, mask)]  # a wasted slot (re-observing) scores 0
            for k in range(self.targets):
                if not mask >> k & 1:
                    options.append(self.score(t, k) + best(t + 1, mask | 1 << k))
            return max(options)

        return best(0, 0)


def run_episode(
    env: Night, W: al.Value, b: al.Value, rng: np.random.Generator, greedy: bool = False
) -> tuple[list[np.ndarray], list[int], list[float]]:
    """Roll out one night with the policy; returns states, actions and rewards."""
    observed = np.zeros(env.targets)
    states, actions, rewards = [], [], []
    with al.no_grad():
        for t in range(env.slots):
            s = env.state(t, observed)
            probs = (W @ al.Value(s) + b).softmax().data
            k = int(np.argmax(probs)) if greedy else int(rng.choice(env.targets, p=probs))
            states.append(s)
            actions.append(k)
            rewards.append(env.step_reward(t, k, observed))
            observed[k] = 1.0
    return states, actions, rewards


def main(
    episodes: int = 600,
    lr: float = 0.1,
    slots: int = 6,
    targets: int = 4,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train the policy; return random, learned (greedy) and optimal returns."""
    env = Night(slots=slots, targets=targets, seed=seed)
    rng = np.random.default_rng(seed)
    nfeat = slots + targets
    W = al.Value(np.zeros((targets, nfeat)), label="W")  # uniform policy to start
    b = al.Value(np.zeros(targets), label="b")

    random_return = float(np.mean([sum(run_episode(env, W, b, rng)[2]) for _ in range(200)]))
    baseline = random_return
    history = []
    for episode in range(episodes):
        states, actions, rewards = run_episode(env, W, b, rng)
        returns = np.cumsum(rewards[::-1])[::-1]  # G_t: reward from slot t to the end
        S = al.Value(np.array(states), requires_grad=False)  # (slots, nfeat)
        logp = (S @ W.T + b).log_softmax(axis=-1)  # (slots, targets)
        chosen = logp[np.arange(len(actions)), np.array(actions)]
        loss = -(chosen * (returns - baseline)).sum()
        W.zero_grad()
        b.zero_grad()
        loss.backward()
        W.data = W.data - lr * W.grad
        b.data = b.data - lr * b.grad
        baseline = 0.95 * baseline + 0.05 * returns[0]
        history.append(returns[0])
        if verbose and (episode + 1) % max(1, episodes // 5) == 0:
            recent = np.mean(history[-50:])
            print(f"episode {episode + 1:5d}: mean return of the last 50 nights {recent:.3f}")
    _, schedule, rewards = run_episode(env, W, b, rng, greedy=True)
    learned_return = float(sum(rewards))
    optimal = env.best_return()
    if verbose:
        print(f"fields culminate at slots {np.round(env.transit, 2)}")
        print(f"learned schedule (field per slot): {schedule}")
        print(
            f"return: random policy {random_return:.3f}, learned {learned_return:.3f}, "
            f"optimal {optimal:.3f}"
        )
    return {
        "random_return": random_return,
        "learned_return": learned_return,
        "optimal_return": optimal,
        "schedule": schedule,
        "history": history,
    }


if __name__ == "__main__":
    main()
