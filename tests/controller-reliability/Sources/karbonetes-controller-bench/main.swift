// karbonetes-controller-bench: `make bench-controller`. Held Jobs in karbonetes-devapi, a green
// flip, and the controller releasing them all; then the same patches sent by a plain loop. Sizes
// from `--jobs 10000,1000`; binaries from KARBONETES_CONTROLLER / KARBONETES_DEVAPI /
// KARBONETES_SIGNAL (bench/controller/run.sh points them at release builds). The last line is
// key=value pairs; the first size's keys are unsuffixed, the others end in _<jobs>.
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
guard !sizes.isEmpty, workers > 0 else {
    FileHandle.standardError.write(Data("usage: karbonetes-controller-bench [--jobs 10000,1000] [--workers 4]\n".utf8))
    exit(2)
}
if let missing = Binaries.missing {
    FileHandle.standardError.write(Data("karbonetes-controller-bench: \(missing)\n".utf8))
    exit(1)
}
say("binaries: controller=\(Binaries.controller ?? "") devapi=\(Binaries.devAPI ?? "") signal=\(Binaries.signal ?? "")")

var pairs: [String] = []
for (index, jobs) in sizes.enumerated() {
    say("== \(jobs) held Jobs, \(workers) controller workers")
    do {
        let figures = try await ControllerBenchmark.run(jobs: jobs, workers: workers) { say("  \($0)") }
        let line = figures.pairs(suffix: "")
        say("  " + line.joined(separator: " "))
        pairs += figures.pairs(suffix: index == 0 ? "" : "_\(jobs)")
    } catch {
        FileHandle.standardError.write(Data("karbonetes-controller-bench: \(jobs) Jobs: \(error)\n".utf8))
        exit(1)
    }
}
say(pairs.joined(separator: " "))
