// Starting the ranks of a job on one machine: `--nproc N` runs N copies of the program with the variables torchrun
// would set (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT = a free port), so a
// rank cannot tell it from torchrun and one code path serves one machine and many.
// Key decisions: the launcher only starts, watches and reports — it does no training and loads no data; each rank
// gets OMP_NUM_THREADS = cores / N unless the user set it (N ranks × all cores each would oversubscribe the CPU);
// when a rank fails, the launcher says which and how, gives the others time to stop with their own error (they name
// the rank too), then terminates what is left; a rank whose launcher dies is sent SIGTERM by the kernel.
#pragma once
#include "engine/distributed.h"

namespace seg::dist {

// Runs `nproc` ranks of this executable (/proc/self/exe) with argv and waits for them; returns the exit status the
// launcher should exit with (0 when every rank succeeded, else the first failure's status, 128 + signal if killed).
int launch_local(int nproc, int argc, char** argv, double timeout_s);

// What this process is, from the command line's settings and the environment:
//  * RANK and WORLD_SIZE set (torchrun, our launcher, or a cluster script): a rank — joins the job, returns -1;
//  * otherwise, settings.nproc > 1: the launcher — runs the ranks and returns their exit status;
//  * otherwise: a single process — returns -1 and joins nothing.
// The settings are kept (launch_settings()) for the trainer (--sync-bn).
int launch_or_join(const LaunchSettings& settings, double timeout_s, int argc, char** argv);

}  // namespace seg::dist
