public import Foundation
public import KarbonetesCarbon
import KarbonetesModels

/// The tool's version, the same as `tools/eval/VERSION` (a test keeps them equal).
public let karbonetesEvalVersion = "0.1.0"

/// A whole evaluation as `--json` prints it.
public struct EvaluationReport: Sendable, Codable {
    public struct TraceInfo: Sendable, Codable {
        public var source: String
        public var points: Int
        public var stepSeconds: Double
        public var start: String
        public var end: String

        enum CodingKeys: String, CodingKey {
            case source, points, start, end
            case stepSeconds = "step_s"
        }
    }

    public var version: String
    public var trace: TraceInfo
    public var workload: String
    public var jobs: Int
    public var from: String
    public var to: String
    public var maxDelaySeconds: Double
    public var powerKW: Double
    public var staticWindow: String
    public var thresholdGramsPerKWh: Double
    public var forecastNoiseSigma: Double
    /// Keyed by strategy name (`runNow`, `firstGreen-static`, …, `oracle`).
    public var strategies: [String: StrategySummary]
    /// The strategies in the table's order.
    public var strategyOrder: [String]

    enum CodingKeys: String, CodingKey {
        case version, trace, workload, jobs, from, to, strategies
        case maxDelaySeconds = "max_delay_s"
        case powerKW = "power_kw"
        case staticWindow = "static_window"
        case thresholdGramsPerKWh = "threshold_g_per_kwh"
        case forecastNoiseSigma = "forecast_noise_sigma"
        case strategyOrder = "strategy_order"
    }

    public init(trace: CarbonTrace, workload: String, jobs: [EvalJob], from: Date, to: Date, maxDelay: TimeInterval, settings: EvaluationSettings, summaries: [StrategySummary]) {
        version = karbonetesEvalVersion
        self.trace = TraceInfo(source: trace.source, points: trace.points.count, stepSeconds: trace.step, start: RFC3339.format(trace.start), end: RFC3339.format(trace.end))
        self.workload = workload
        self.jobs = jobs.count
        self.from = RFC3339.format(from)
        self.to = RFC3339.format(to)
        maxDelaySeconds = maxDelay
        powerKW = settings.powerKW
        staticWindow = settings.staticWindow.description
        thresholdGramsPerKWh = settings.threshold
        forecastNoiseSigma = settings.forecastNoise.relativeSigma
        strategies = Dictionary(uniqueKeysWithValues: summaries.map { ($0.strategy, $0) })
        strategyOrder = summaries.map(\.strategy)
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The human table: one line per strategy.
    public func table() -> String {
        var lines = [
            "karbonetes-eval \(version): \(trace.source) (\(trace.points) points, step \(goSpelling(trace.stepSeconds)), \(trace.start) to \(trace.end))",
            "workload \(workload): \(jobs) Jobs arriving \(from) to \(to), maxDelay \(goSpelling(maxDelaySeconds)), \(Self.number(powerKW, 2)) kW each",
            "static window: \(staticWindow); threshold: \(Self.number(thresholdGramsPerKWh, 1)) gCO2eq/kWh; forecast noise sigma \(Self.number(forecastNoiseSigma, 2))",
            "",
        ]
        let header = ["strategy", "emissions kg", "vs runNow", "of oracle", "mean delay", "p95 delay", "misses", "faults"]
        var rows = [header]
        for name in strategyOrder {
            guard let summary = strategies[name] else { continue }
            rows.append([
                name,
                Self.number(summary.emissionsGrams / 1000, 1),
                Self.percent(-summary.reductionVsRunNow),
                summary.shareOfOracle.map { Self.number($0 * 100, 1) + "%" } ?? "n/a",
                Self.hours(summary.meanDelaySeconds),
                Self.hours(summary.p95DelaySeconds),
                String(summary.deadlineMisses),
                String(summary.engineFaults),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    static func number(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    static func percent(_ change: Double) -> String {
        let rounded = (change * 1000).rounded() / 10
        return rounded == 0 ? "0.0%" : (rounded > 0 ? "+" : "") + String(format: "%.1f%%", rounded)
    }

    static func hours(_ seconds: Double) -> String {
        String(format: "%.2fh", seconds / 3600)
    }
}

/// Picks the static strategy's daily window from the trace the way an operator would from a
/// year's average day: the `hours`-long window starting on a whole UTC hour with the lowest
/// mean intensity by hour of day. (Chosen from the same trace it is evaluated on, so it flatters
/// the static strategy a little; pass `--static-window` to fix it beforehand.)
public enum StaticWindowChooser {
    public static func lowestMean(trace: CarbonTrace, hours: Int) -> GreenRule {
        precondition((1...23).contains(hours), "a static window is 1 to 23 hours long")
        var sums = [Double](repeating: 0, count: 24)
        var counts = [Double](repeating: 0, count: 24)
        let first = (trace.start.timeIntervalSince1970 / 3600).rounded(.up) * 3600
        var hourStart = first
        while hourStart + 3600 <= trace.end.timeIntervalSince1970 {
            let start = Date(timeIntervalSince1970: hourStart)
            if let mean = trace.meanIntensity(from: start, to: start.addingTimeInterval(3600)) {
                let hourOfDay = Int(hourStart.truncatingRemainder(dividingBy: 86_400) / 3600)
                sums[hourOfDay] += mean
                counts[hourOfDay] += 1
            }
            hourStart += 3600
        }
        let profile = (0..<24).map { counts[$0] > 0 ? sums[$0] / counts[$0] : .infinity }
        let best = (0..<24).min { a, b in
            let meanA = (0..<hours).reduce(0) { $0 + profile[(a + $1) % 24] }
            let meanB = (0..<hours).reduce(0) { $0 + profile[(b + $1) % 24] }
            return meanA < meanB
        } ?? 0
        return .dailyWindow(startSecond: best * 3600, endSecond: (best + hours) % 24 * 3600)
    }
}
