import Foundation
import KarbonetesCarbon
import KarbonetesCommandLine
import KarbonetesEval
import KarbonetesModels

/// The command line, read once; every bad value exits 2 naming its flag.
struct Configuration {
    var trace: CarbonTrace
    var workload: WorkloadSpec
    var maxDelay: TimeInterval
    var from: Date
    var to: Date
    var settings: EvaluationSettings
    var json: Bool
    var jsonOut: String?
    var plot: String?
    var plotDays: Int
}

enum Flags {
    static let trace = Flag(name: "trace", help: "Carbon-intensity CSV: an Electricity Maps export or Time,Carbon Intensity.", valueName: "file", environment: "")
    static let column = Flag(name: "column", help: "Intensity column to read (default: the format's; e.g. direct).", valueName: "name", environment: "")
    static let workload = Flag(
        name: "workload", default: "poisson:1/h;duration=1h;seed=1",
        help: "Arrivals and durations: poisson:RATE, every:DURATION or cron:EXPR (UTC), then ;duration=1h or ;duration=30m..3h and ;seed=N.",
        valueName: "spec", environment: "")
    static let maxDelay = Flag(name: "max-delay", default: "12h", help: "How long each Job may be held (Go duration).", valueName: "duration", environment: "")
    static let from = Flag(name: "from", help: "First arrival time (RFC 3339 or YYYY-MM-DD; default: the trace's start).", valueName: "time", environment: "")
    static let to = Flag(
        name: "to", help: "Arrivals stop before this time (default: as late as every Job's window still fits in the trace).",
        valueName: "time", environment: "")
    static let powerKW = Flag(name: "power-kw", default: "1", help: "Power each Job draws while it runs, in kW.", valueName: "kW", environment: "")
    static let staticWindow = Flag(
        name: "static-window", default: "auto",
        help: "Daily green window of the static strategy, HH:MM-HH:MM UTC; auto picks the 6 lowest-intensity hours of the trace's average day.",
        valueName: "window", environment: "")
    static let threshold = Flag(
        name: "threshold", default: "p30", help: "Green threshold in gCO2eq/kWh, or pNN for a percentile of the trace.", valueName: "value", environment: "")
    static let forecastNoise = Flag(
        name: "forecast-noise", default: "0.2", help: "Relative standard deviation of the noisy forecast's error.", valueName: "sigma", environment: "")
    static let noiseSeed = Flag(name: "noise-seed", default: "1", help: "Seed of the noisy forecast.", valueName: "n", environment: "")
    static let json = Flag(name: "json", help: "Print the results as JSON instead of a table.", isBoolean: true, environment: "")
    static let jsonOut = Flag(name: "json-out", help: "Also write the JSON to this file (the table still goes to stdout).", valueName: "file.json", environment: "")
    static let plot = Flag(name: "plot", help: "Write an SVG of intensity and job starts (and a PNG next to it when rsvg-convert or convert exists).", valueName: "file.svg", environment: "")
    static let plotDays = Flag(name: "plot-days", default: "14", help: "Days shown in the plot from the first arrival (0: all).", valueName: "n", environment: "")

    static let all = [trace, column, workload, maxDelay, from, to, powerKW, staticWindow, threshold, forecastNoise, noiseSeed, json, jsonOut, plot, plotDays]
}

func parseTime(_ text: String) throws -> Date {
    if let date = RFC3339.parse(text) ?? RFC3339.parse(text + "T00:00:00Z") { return date }
    throw FlagValueReason("not an RFC 3339 time or a YYYY-MM-DD date")
}

func positiveNumber(_ text: String) throws -> Double {
    guard let value = Double(text), value.isFinite, value > 0 else { throw FlagValueReason("not a positive number") }
    return value
}

let flagSet = FlagSet(
    program: "karbonetes-eval", version: karbonetesEvalVersion,
    summary: "Replays a carbon-intensity trace and a workload through Karbonetes' decision engine and compares the strategies with runNow and a perfect-knowledge oracle.",
    flags: Flags.all)

let configuration = flagSet.parseOrExit { flags in
    let column = flags.string(Flags.column)
    let trace = try flags.value(Flags.trace) { try CarbonTrace.load(contentsOfFile: $0, column: column) }
    let workload = try flags.value(Flags.workload) { try WorkloadSpec(parsing: $0) }
    let maxDelay = try flags.value(Flags.maxDelay) { text in
        let value = try GoDuration(parsing: text).timeInterval
        guard value > 0 else { throw FlagValueReason("must be more than zero") }
        return value
    }
    let latest = trace.end.addingTimeInterval(-maxDelay - workload.duration.maximum)
    var from = trace.start
    if flags.string(Flags.from) != nil {
        from = try flags.value(Flags.from) { text in
            let date = try parseTime(text)
            guard date >= trace.start else { throw FlagValueReason("before the trace's start \(RFC3339.format(trace.start))") }
            return date
        }
    }
    var to = latest
    if flags.string(Flags.to) != nil {
        to = try flags.value(Flags.to) { text in
            let date = try parseTime(text)
            guard date <= latest else {
                throw FlagValueReason("after \(RFC3339.format(latest)), the last arrival whose maxDelay and longest run still fit in the trace")
            }
            return date
        }
    }
    guard to > from else {
        throw FlagValueReason("--to \(RFC3339.format(to)) is not after --from \(RFC3339.format(from))")
    }
    let staticWindow = try flags.value(Flags.staticWindow) { text in
        text == "auto" ? StaticWindowChooser.lowestMean(trace: trace, hours: 6) : try GreenRule.dailyWindow(parsing: text)
    }
    let threshold = try flags.value(Flags.threshold) { text in
        if text.hasPrefix("p"), let p = Double(text.dropFirst()), let value = trace.intensityPercentile(p) { return value }
        guard let value = Double(text), value.isFinite, value >= 0 else { throw FlagValueReason("not gCO2eq/kWh or pNN (0-100)") }
        return value
    }
    let sigma = try flags.value(Flags.forecastNoise) { text in
        guard let value = Double(text), value.isFinite, value >= 0 else { throw FlagValueReason("not a non-negative number") }
        return value
    }
    let noiseSeed = try flags.value(Flags.noiseSeed) { text in
        guard let value = UInt64(text) else { throw FlagValueReason("not a non-negative integer") }
        return value
    }
    let plotDays = try flags.value(Flags.plotDays) { text in
        guard let days = Int(text), days >= 0 else { throw FlagValueReason("not a whole number of days, 0 or more") }
        return days
    }
    return Configuration(
        trace: trace, workload: workload, maxDelay: maxDelay, from: from, to: to,
        settings: EvaluationSettings(
            staticWindow: staticWindow, threshold: threshold, forecastNoise: ForecastNoise(relativeSigma: sigma, seed: noiseSeed),
            powerKW: try flags.value(Flags.powerKW, positiveNumber)),
        json: try flags.bool(Flags.json), jsonOut: flags.string(Flags.jsonOut), plot: flags.string(Flags.plot), plotDays: plotDays)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("karbonetes-eval: \(message)\n".utf8))
    exit(1)
}

let jobs = configuration.workload.jobs(from: configuration.from, to: configuration.to, maxDelay: configuration.maxDelay)
if jobs.isEmpty { fail("the workload \(configuration.workload) has no Job arriving between \(RFC3339.format(configuration.from)) and \(RFC3339.format(configuration.to))") }
let runs = Evaluation.run(trace: configuration.trace, jobs: jobs, settings: configuration.settings)
let summaries = StrategySummary.summarize(runs)
let report = EvaluationReport(
    trace: configuration.trace, workload: configuration.workload.text, jobs: jobs, from: configuration.from, to: configuration.to,
    maxDelay: configuration.maxDelay, settings: configuration.settings, summaries: summaries)

do {
    print(configuration.json ? try report.json() : report.table())
    if let path = configuration.jsonOut {
        try Data((try report.json() + "\n").utf8).write(to: URL(fileURLWithPath: path))
        FileHandle.standardError.write(Data("karbonetes-eval: wrote \(path)\n".utf8))
    }
} catch {
    fail("cannot write the report: \(error)")
}

for run in runs {
    let faults = run.runs.compactMap { $0.fault }
    for fault in faults.prefix(5) {
        FileHandle.standardError.write(Data("karbonetes-eval: engine fault under \(run.strategy.rawValue): \(fault)\n".utf8))
    }
}
let misses = summaries.reduce(0) { $0 + $1.deadlineMisses }
if misses > 0 {
    FileHandle.standardError.write(Data("karbonetes-eval: \(misses) deadline misses: the decision engine let a Job wait past its maxDelay; this is a bug\n".utf8))
    exit(3)
}

/// The first converter found on PATH, to turn the SVG into a PNG as well.
func pngConverter() -> (URL, (String, String) -> [String])? {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    let converters: [(String, (String, String) -> [String])] = [
        ("rsvg-convert", { svg, png in ["-o", png, svg] }),
        ("convert", { svg, png in [svg, png] }),
    ]
    for (name, arguments) in converters {
        for directory in directories {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return (url, arguments) }
        }
    }
    return nil
}

if let plotPath = configuration.plot {
    let plotEnd = configuration.plotDays == 0
        ? min(configuration.trace.end, configuration.to.addingTimeInterval(configuration.maxDelay))
        : min(configuration.trace.end, configuration.from.addingTimeInterval(Double(configuration.plotDays) * 86_400))
    let title = "karbonetes-eval: \(URL(fileURLWithPath: configuration.trace.source).lastPathComponent), \(configuration.workload.text), maxDelay \(GoDuration(nanoseconds: Int64(configuration.maxDelay * 1e9)))"
    let svg = SVGPlot.render(trace: configuration.trace, runs: runs, from: configuration.from, to: plotEnd, settings: configuration.settings, title: title)
    do {
        try Data(svg.utf8).write(to: URL(fileURLWithPath: plotPath))
    } catch {
        fail("cannot write the plot \(plotPath): \(error.localizedDescription)")
    }
    FileHandle.standardError.write(Data("karbonetes-eval: wrote \(plotPath)\n".utf8))
    if let (converter, arguments) = pngConverter() {
        let pngPath = (plotPath.hasSuffix(".svg") ? String(plotPath.dropLast(4)) : plotPath) + ".png"
        let process = Process()
        process.executableURL = converter
        process.arguments = arguments(plotPath, pngPath)
        do {
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus == 0 {
                FileHandle.standardError.write(Data("karbonetes-eval: wrote \(pngPath)\n".utf8))
            } else {
                FileHandle.standardError.write(Data("karbonetes-eval: \(converter.lastPathComponent) failed (status \(process.terminationStatus)); only the SVG was written\n".utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("karbonetes-eval: cannot run \(converter.path): \(error.localizedDescription); only the SVG was written\n".utf8))
        }
    }
}
