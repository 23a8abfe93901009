#!/usr/bin/env python3
"""CPU time per probe, as the kernel accounts it to the probe process.

    python3 scripts/cpu_per_probe.py BATCHES RUNS NAME=COMMAND...

Runs each COMMAND (split on spaces; leading VAR=VALUE words are its
environment, beside PATH=/usr/bin:/bin, and nothing else is) RUNS times in a row, one process after the other, and adds up the user
and system time that wait4() reports for each child: the process's own
start-up, work and exit, without this script's fork. The tools take turns
batch by batch (BATCHES rounds), so that a noisy machine slows them alike.
Every run must exit 0. Prints one line per tool, tab-separated: the name,
the median over the batches of the CPU time per probe in microseconds, the
least and the greatest batch's.
"""
import os
import statistics
import sys


def split(command):
    """The argv and environment of a COMMAND."""
    words, env = command.split(), {"PATH": "/usr/bin:/bin"}
    while words and "=" in words[0] and not words[0].startswith("/"):
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    return words, env


def batch(argv, runs, env):
    """CPU seconds (user + system) of `runs` runs of argv, one after another."""
    total = 0.0
    for _ in range(runs):
        pid = os.posix_spawn(argv[0], argv, env)
        _, status, usage = os.wait4(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"cpu_per_probe: {' '.join(argv)} exited {os.waitstatus_to_exitcode(status)}")
        total += usage.ru_utime + usage.ru_stime
    return total


def main():
    batches, runs = int(sys.argv[1]), int(sys.argv[2])
    tools = [arg.split("=", 1) for arg in sys.argv[3:]]
    per_probe = {name: [] for name, _ in tools}
    for _ in range(batches):
        for name, command in tools:
            argv, env = split(command)
            per_probe[name].append(batch(argv, runs, env) / runs * 1e6)
    for name, _ in tools:
        xs = per_probe[name]
        print(f"{name}\t{statistics.median(xs):.0f}\t{min(xs):.0f}\t{max(xs):.0f}")


if __name__ == "__main__":
    main()
