/*
 * fault.h - deterministic crash points for the crash-safety tests.
 *
 * With RECON_FAULT=NAME:N in the environment, the N-th time the process passes
 * the crash point NAME it kills itself with SIGKILL, as a power cut or an OOM
 * kill would: no cleanup, no flush.  Without the variable a crash point costs
 * one branch.  The points are listed in tests/e2e/cases/job_kill/cmd.
 */
#ifndef RECON_FAULT_H
#define RECON_FAULT_H

void fault_point(const char *name);

#endif
