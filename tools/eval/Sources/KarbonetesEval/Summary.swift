import Foundation
import KarbonetesCarbon

/// The figures `--json` prints per strategy (snake_case, as the issue names them).
public struct StrategySummary: Sendable, Hashable, Codable {
    public var strategy: String
    public var rule: String?
    public var jobs: Int
    public var emissionsGrams: Double
    /// 1 − emissions / runNow's emissions.
    public var reductionVsRunNow: Double
    /// This strategy's saving over the oracle's saving (both against runNow); nil when the
    /// oracle saves nothing (a flat trace), where the share has no meaning.
    public var shareOfOracle: Double?
    public var meanDelaySeconds: Double
    public var p95DelaySeconds: Double
    public var deadlineMisses: Int
    /// Jobs where the engine did something it must never do; each is also a miss.
    public var engineFaults: Int
    /// How many Jobs ended each way (`admitted-green`, `released/max-delay`, …).
    public var outcomes: [String: Int]

    enum CodingKeys: String, CodingKey {
        case strategy, rule, jobs, outcomes
        case emissionsGrams = "emissions_g"
        case reductionVsRunNow = "reduction_vs_run_now"
        case shareOfOracle = "share_of_oracle"
        case meanDelaySeconds = "mean_delay_s"
        case p95DelaySeconds = "p95_delay_s"
        case deadlineMisses = "deadline_misses"
        case engineFaults = "engine_faults"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(strategy, forKey: .strategy)
        try container.encodeIfPresent(rule, forKey: .rule)
        try container.encode(jobs, forKey: .jobs)
        try container.encode(emissionsGrams, forKey: .emissionsGrams)
        try container.encode(reductionVsRunNow, forKey: .reductionVsRunNow)
        // An explicit null, so every strategy has every key.
        try container.encode(shareOfOracle, forKey: .shareOfOracle)
        try container.encode(meanDelaySeconds, forKey: .meanDelaySeconds)
        try container.encode(p95DelaySeconds, forKey: .p95DelaySeconds)
        try container.encode(deadlineMisses, forKey: .deadlineMisses)
        try container.encode(engineFaults, forKey: .engineFaults)
        try container.encode(outcomes, forKey: .outcomes)
    }

    /// Summaries of every run, relative to the `runNow` and `oracle` runs among them.
    public static func summarize(_ runs: [StrategyRun]) -> [StrategySummary] {
        func total(_ strategy: Strategy) -> Double? {
            runs.first { $0.strategy == strategy }.map { $0.runs.reduce(0) { $0 + $1.emissionsGrams } }
        }
        let baseline = total(.runNow)
        let best = total(.oracle)
        return runs.map { run in
            let emissions = run.runs.reduce(0) { $0 + $1.emissionsGrams }
            let delays = run.runs.map(\.delay)
            var reduction = 0.0
            var share: Double?
            if let baseline, baseline > 0 {
                reduction = 1 - emissions / baseline
                if let best, baseline - best > 1e-9 * baseline { share = (baseline - emissions) / (baseline - best) }
            }
            return StrategySummary(
                strategy: run.strategy.rawValue, rule: run.rule, jobs: run.runs.count, emissionsGrams: emissions,
                reductionVsRunNow: reduction, shareOfOracle: share,
                meanDelaySeconds: delays.isEmpty ? 0 : delays.reduce(0, +) / Double(delays.count),
                p95DelaySeconds: Percentile.value(95, of: delays) ?? 0,
                deadlineMisses: run.runs.count { $0.missedDeadline },
                engineFaults: run.runs.count { $0.fault != nil },
                outcomes: Dictionary(run.runs.map { ($0.outcome, 1) }, uniquingKeysWith: +))
        }
    }
}
