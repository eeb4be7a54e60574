// The sub-commands of build/apps/segtool, one function each (argv[0] is the sub-command name).
// Key decision: the tool's logic lives in data/ so apps/segtool.cpp is only a dispatcher.
#pragma once

namespace seg::cli {
int info(int argc, char** argv);      // segtool info FILE [--json]
int convert(int argc, char** argv);   // segtool convert IN OUT
int metrics(int argc, char** argv);   // segtool metrics PRED GT [--labels 1,2] [--dataset NAME] [--json]
int phantom(int argc, char** argv);   // segtool phantom NAME OUTDIR [--patients N] [--seed S]
int pseudo(int argc, char** argv);    // segtool pseudo IMAGE LABELS OUTDIR [--patients N] [--seed S] [--map 1:2] …
int edt(int argc, char** argv);       // segtool edt MASK OUT [--variant D1|D2|D3] [--label L]
int edges(int argc, char** argv);     // segtool edges LABELS OUT
int contour(int argc, char** argv);   // segtool contour MASK OUT [--radius R]
int weak(int argc, char** argv);      // segtool weak LABELS OUT [--label L] [--diameter 4] [--seed S]
int degrade(int argc, char** argv);
int evaluate(int argc, char** argv);  // segtool evaluate PRED_DIR GT_DIR [--labels 1,2] [-o summary.json] (segtool_evaluate.cpp)   // segtool degrade IMAGE OUT --noise S | --blur S | --shot C [--seed S]
}  // namespace seg::cli
