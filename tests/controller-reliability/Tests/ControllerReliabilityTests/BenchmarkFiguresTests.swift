import Foundation
import KarbonetesModels
import KarbonetesModelsTestKit
import Testing

@testable import ReliabilityKit

/// bench-controller's verdict rests on how it counts releases and sums its rounds, so these
/// are pinned without running it.
@Suite("bench-controller's figures")
struct BenchmarkFiguresTests {
    static func round(releasesPerSecond: Double, raw: Double, writes: Int = 100, peakMiB: Int = 50) -> RoundFigures {
        RoundFigures(
            jobs: 101, createSeconds: 1, releaseSeconds: 2, writes: writes, controllerWrites: Double(writes) * 2,
            releaseSpreadSeconds: 100 / releasesPerSecond, peakRSSBytes: peakMiB * 1_048_576, rawPatchesPerSecond: raw,
            controllerPhaseCPU: PhaseCPU(controller: 0.05, apiServer: 0.08, harness: 0.01), rawPhaseCPU: PhaseCPU(apiServer: 0.06, harness: 0.02))
    }

    static func values(_ figures: BenchmarkFigures) -> [String: String] {
        Dictionary(uniqueKeysWithValues: figures.pairs(suffix: "").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), String(parts[1]))
        })
    }

    @Test("the ratio is the median of the rounds' own ratios, with the lowest and highest beside it")
    func ratioIsTheMedianOfRounds() {
        // Ratios 0.70, 1.10 and 0.90; the ratio of the median rates would be 1,000/1,000 = 1.00.
        let figures = BenchmarkFigures(
            jobs: 101, workers: 4,
            rounds: [Self.round(releasesPerSecond: 700, raw: 1_000), Self.round(releasesPerSecond: 1_100, raw: 1_000), Self.round(releasesPerSecond: 1_000, raw: 1_111.111)])
        let values = Self.values(figures)
        #expect(values["rate_vs_raw"] == "0.90")
        #expect(values["rate_vs_raw_min"] == "0.70")
        #expect(values["rate_vs_raw_max"] == "1.10")
        #expect(values["release_per_s"] == "1000")
        #expect(values["rounds"] == "3")
    }

    @Test("writes per Job count every round, and peak RSS is the largest round's")
    func totalsOverRounds() {
        let figures = BenchmarkFigures(
            jobs: 101, workers: 4,
            rounds: [Self.round(releasesPerSecond: 1_000, raw: 1_000, writes: 101, peakMiB: 40), Self.round(releasesPerSecond: 1_000, raw: 1_000, writes: 202, peakMiB: 90)])
        let values = Self.values(figures)
        #expect(values["writes_per_job"] == "1.50")
        #expect(values["peak_rss_mb"] == "90.0")
        #expect(values["controller_cpu_us_per_release"] == "495")
    }

    @Test("the counting watch's partial Job is released exactly when the audit says a whole Job is", arguments: [
        ("held", JobFixture.carbonAware().annotated(CarbonAnnotations.state, CarbonState.deferred.rawValue).suspended()),
        ("released", JobFixture.carbonAware().annotated(CarbonAnnotations.state, CarbonState.released.rawValue).suspended(false)),
        ("released state but suspended again", JobFixture.carbonAware().annotated(CarbonAnnotations.state, CarbonState.released.rawValue).suspended()),
        ("unsuspended by hand, no released state", JobFixture.carbonAware().annotated(CarbonAnnotations.state, CarbonState.deferred.rawValue).suspended(false)),
        ("no annotations at all", JobFixture.plain()),
    ])
    func countedJobAgreesWithTheAudit(name: String, fixture: JobFixture) throws {
        let bytes = JSONValueWriter.data(fixture.raw)
        let whole = try KubernetesJSON.decode(Job.self, from: bytes)
        let partial = try KubernetesJSON.decode(CountedJob.self, from: bytes)
        #expect(partial.isReleased == ReleaseAudit.isReleased(whole), "\(name)")
    }

    @Test("pinning a process puts every one of its threads on the CPUs named")
    func pinsEveryThread() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["10"]
        try child.run()
        defer { child.terminate() }
        // The first CPU this process may use (a container's cpuset need not hold CPU 0).
        let mine = try Self.allowedCPUs(of: getpid())
        let cpu = try #require(mine.split(whereSeparator: { $0 == "-" || $0 == "," }).first.flatMap { Int($0) })
        try CPUAffinity.pin(process: child.processIdentifier, to: [cpu])
        #expect(try Self.allowedCPUs(of: child.processIdentifier) == "\(cpu)")
    }

    static func allowedCPUs(of pid: Int32) throws -> String {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        return String(line.split(separator: "\t").last ?? "")
    }
}
