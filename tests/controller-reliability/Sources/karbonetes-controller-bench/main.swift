// karbonetes-controller-bench: `make bench-controller`. Held Jobs in karbonetes-devapi, a green
// flip, and the controller releasing them all; then the same patches sent by a plain loop. Sizes
// from `--jobs 10000,1000`; binaries from KARBONETES_CONTROLLER / KARBONETES_DEVAPI /
// KARBONETES_SIGNAL (bench/controller/run.sh points them at release builds). Layouts from
// `--layouts api-server-alone,shared` (see MachineLayout); each size runs `--rounds 3` times, each
// round on a fresh API server, and rates are medians over the rounds. The last line is key=value pairs; the
// first layout's keys have no layout suffix, the others' end in _<layout>; the first size's keys
// have no size suffix, the others' end in _<jobs> (rate_vs_raw_shared_1000).
import Foundation
import ReliabilityKit

/// Written at once (not buffered), so progress shows through `tee` while it runs.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func argument(_ name: String, default fallback: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}

let sizes = argument("jobs", default: "10000,1000").split(separator: ",").compactMap { Int($0) }
let workers = Int(argument("workers", default: "4")) ?? 4
let rounds = Int(argument("rounds", default: "3")) ?? 0
let layoutNames = argument("layouts", default: "api-server-alone,shared").split(separator: ",").map(String.init)
let layouts = layoutNames.compactMap(MachineLayout.init(rawValue:))
guard !sizes.isEmpty, workers > 0, rounds > 0, !layouts.isEmpty, layouts.count == layoutNames.count else {
    FileHandle.standardError.write(Data("usage: karbonetes-controller-bench [--jobs 10000,1000] [--workers 4] [--rounds 3] [--layouts api-server-alone,shared]\n".utf8))
    exit(2)
}
if let missing = Binaries.missing {
    FileHandle.standardError.write(Data("karbonetes-controller-bench: \(missing)\n".utf8))
    exit(1)
}
say("binaries: controller=\(Binaries.controller ?? "") devapi=\(Binaries.devAPI ?? "") signal=\(Binaries.signal ?? "")")

var pairs: [String] = []
for (layoutIndex, layout) in layouts.enumerated() {
    for (index, jobs) in sizes.enumerated() {
        say("== \(jobs) held Jobs, \(workers) controller workers, layout \(layout.rawValue), \(rounds) rounds")
        do {
            let figures = try await ControllerBenchmark.run(jobs: jobs, workers: workers, layout: layout, rounds: rounds) { say("  \($0)") }
            say("  " + figures.pairs(suffix: "").joined(separator: " "))
            pairs += figures.pairs(suffix: (layoutIndex == 0 ? "" : "_" + layout.rawValue.replacingOccurrences(of: "-", with: "_")) + (index == 0 ? "" : "_\(jobs)"))
        } catch {
            FileHandle.standardError.write(Data("karbonetes-controller-bench: \(jobs) Jobs, layout \(layout.rawValue): \(error)\n".utf8))
            exit(1)
        }
    }
}
say(pairs.joined(separator: " "))
