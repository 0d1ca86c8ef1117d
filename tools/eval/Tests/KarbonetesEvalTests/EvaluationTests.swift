import Foundation
import KarbonetesCarbon
import KarbonetesEval
import KarbonetesModels
import Testing

@Suite("Replaying workloads through the decision engine")
struct EvaluationTests {
    static let settings = EvaluationSettings(
        staticWindow: .dailyWindow(startSecond: 3 * 3600, endSecond: 5 * 3600), threshold: 150,
        forecastNoise: ForecastNoise(relativeSigma: 0.2, seed: 1))

    @Test(
        "on a hand-made day each strategy starts the Job where its rule says",
        arguments: [
            // 00:00 300, 01:00 300, 02:00 100 (green by the threshold), 03:00 50 (lowest), then 300.
            (Strategy.runNow, "00:00", "run-now"),
            (.firstGreenThreshold, "02:00", "released/green-window"),
            (.firstGreenStatic, "03:00", "released/green-window"),
            (.forecastPerfect, "03:00", "released/green-window"),
            (.oracle, "03:00", "oracle"),
        ])
    func pinnedStarts(strategy: Strategy, wantStart: String, wantOutcome: String) throws {
        let trace = hourlyTrace([300, 300, 100, 50] + Array(repeating: 300, count: 20))
        let job = EvalJob(index: 0, arrival: utc("2022-06-01T00:00:00Z"), duration: 3600, maxDelay: 6 * 3600)
        let run = try #require(Evaluation.run(strategy, trace: trace, jobs: [job], settings: Self.settings).runs.first)
        #expect(run.start == utc("2022-06-01T\(wantStart):00Z"))
        #expect(run.outcome == wantOutcome)
        #expect(run.fault == nil)
        #expect(abs(run.emissionsGrams - (trace.intensity(at: run.start) ?? -1)) < 1e-9)
    }

    @Test("a Job arriving while the grid is green is admitted green and runs at once")
    func admittedGreen() throws {
        let trace = hourlyTrace([100, 300, 20] + Array(repeating: 300, count: 20))
        let job = EvalJob(index: 0, arrival: utc("2022-06-01T00:10:00Z"), duration: 1800, maxDelay: 6 * 3600)
        let run = try #require(Evaluation.run(.firstGreenThreshold, trace: trace, jobs: [job], settings: Self.settings).runs.first)
        #expect(run.start == job.arrival)
        #expect(run.outcome == "admitted-green")
        #expect(run.reconciles == 0)
    }

    @Test("with no green moment before the deadline the engine releases at the deadline, not later")
    func releasedAtDeadline() throws {
        let trace = hourlyTrace(Array(repeating: 400, count: 24))
        let job = EvalJob(index: 0, arrival: utc("2022-06-01T00:00:07Z"), duration: 3600, maxDelay: 5400)
        for strategy in [Strategy.firstGreenThreshold, .firstGreenStatic] {
            let run = try #require(Evaluation.run(strategy, trace: trace, jobs: [job], settings: Self.settings).runs.first)
            #expect(run.start == job.deadline, "\(strategy)")
            #expect(run.outcome == "released/max-delay", "\(strategy)")
            #expect(!run.missedDeadline)
        }
    }

    @Test("the forecast strategy releases at once when a perfect forecast shows nothing better ahead")
    func forecastNothingBetter() throws {
        let trace = hourlyTrace([400, 410, 420, 430] + Array(repeating: 500, count: 20))
        let job = EvalJob(index: 0, arrival: utc("2022-06-01T00:20:00Z"), duration: 3600, maxDelay: 5 * 3600)
        let run = try #require(Evaluation.run(.forecastPerfect, trace: trace, jobs: [job], settings: Self.settings).runs.first)
        #expect(run.start == job.arrival)
        #expect(run.outcome == "released/forecast-best")
        #expect(run.reconciles == 1)
    }

    @Test("the oracle equals brute force over every minute of every Job's allowed window")
    func oracleMatchesBruteForce() throws {
        var generator = SeededGenerator(seed: 11)
        let trace = hourlyTrace((0..<96).map { _ in Double.random(in: 20...500, using: &generator).rounded() })
        // 95 minutes is not a whole number of steps, so the best start is often a boundary minus the duration.
        let jobs = try WorkloadSpec(parsing: "every:5h;duration=95m").jobs(from: trace.start, to: trace.start.addingTimeInterval(80 * 3600), maxDelay: 7 * 3600)
        #expect(jobs.count == 16)
        let oracle = Evaluation.run(.oracle, trace: trace, jobs: jobs, settings: Self.settings).runs
        var offGrid = 0
        for (job, run) in zip(jobs, oracle) {
            var best = Double.infinity
            for minute in 0...Int(job.maxDelay / 60) {
                let start = job.arrival.addingTimeInterval(Double(minute) * 60)
                best = min(best, try #require(trace.integral(from: start, to: start.addingTimeInterval(job.duration))) / 3600)
            }
            #expect(abs(run.emissionsGrams - best) < 1e-6, "job \(job.index)")
            #expect(run.start >= job.arrival && run.start <= job.deadline)
            if run.start.timeIntervalSince1970.truncatingRemainder(dividingBy: 3600) != 0 { offGrid += 1 }
        }
        #expect(offGrid > 0, "the case should exercise starts between step boundaries")
    }

    struct RealCase: Sendable, CustomStringConvertible {
        var trace: String
        var workload: String
        var maxDelay: TimeInterval
        var days: Double
        var description: String { "\(trace) \(workload) maxDelay \(maxDelay)s" }
    }

    static let realCases: [RealCase] = Paths.traceNames.flatMap { name in
        [
            RealCase(trace: name, workload: "poisson:1/h;duration=30m..3h;seed=5", maxDelay: 12 * 3600, days: 8),
            RealCase(trace: name, workload: "every:47m;duration=20m", maxDelay: 100 * 60, days: 7),
        ]
    }

    @Test("on the real traces the engine never misses a deadline or faults, and no strategy beats the oracle", arguments: realCases)
    func realTraces(_ testCase: RealCase) throws {
        let trace = try CarbonTrace.load(contentsOfFile: Paths.trace(testCase.trace))
        // A slice from the middle of the trace keeps the debug-build test quick.
        let from = trace.start.addingTimeInterval(150 * 86_400)
        let jobs = try WorkloadSpec(parsing: testCase.workload).jobs(from: from, to: from.addingTimeInterval(testCase.days * 86_400), maxDelay: testCase.maxDelay)
        let threshold = try #require(trace.intensityPercentile(30))
        let settings = EvaluationSettings(
            staticWindow: StaticWindowChooser.lowestMean(trace: trace, hours: 6), threshold: threshold,
            forecastNoise: ForecastNoise(relativeSigma: 0.2, seed: 3))
        let runs = Evaluation.run(trace: trace, jobs: jobs, settings: settings)
        let summaries = StrategySummary.summarize(runs)
        for run in runs {
            for job in run.runs {
                #expect(job.fault == nil, "\(run.strategy): \(job.fault ?? "")")
                #expect(job.start >= job.job.arrival && job.start <= job.job.deadline, "\(run.strategy) job \(job.job.index)")
            }
        }
        for summary in summaries {
            #expect(summary.deadlineMisses == 0, "\(summary.strategy)")
            #expect(summary.jobs == jobs.count)
            if let share = summary.shareOfOracle { #expect(share <= 1 + 1e-9, "\(summary.strategy)") }
        }
        let oracle = try #require(summaries.first { $0.strategy == Strategy.oracle.rawValue })
        #expect(oracle.reductionVsRunNow > 0)
        #expect(oracle.shareOfOracle == 1)
    }

    @Test("summaries compute reduction and share of the oracle from the totals")
    func summaryMath() {
        let job = EvalJob(index: 0, arrival: utc("2022-06-01T00:00:00Z"), duration: 3600, maxDelay: 7200)
        func run(_ strategy: Strategy, grams: Double, delay: Double) -> StrategyRun {
            StrategyRun(strategy: strategy, rule: nil, runs: [
                JobRun(job: job, start: job.arrival.addingTimeInterval(delay), emissionsGrams: grams, outcome: "x", reconciles: 0),
                JobRun(job: job, start: job.arrival.addingTimeInterval(2 * delay), emissionsGrams: grams, outcome: "y", reconciles: 0),
            ])
        }
        let summaries = StrategySummary.summarize([run(.runNow, grams: 100, delay: 0), run(.firstGreenStatic, grams: 80, delay: 1800), run(.oracle, grams: 60, delay: 3600)])
        #expect(summaries.map(\.emissionsGrams) == [200, 160, 120])
        #expect(zip(summaries.map(\.reductionVsRunNow), [0, 0.2, 0.4]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(summaries.map { $0.shareOfOracle ?? -1 }, [0, 0.5, 1]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(summaries[1].meanDelaySeconds == 2700)
        #expect(summaries[1].p95DelaySeconds == 1800 + 0.95 * 1800)
        #expect(summaries[1].outcomes == ["x": 1, "y": 1])
        #expect(summaries.allSatisfy { $0.deadlineMisses == 0 })
        let late = StrategyRun(strategy: .forecastNoisy, rule: nil, runs: [JobRun(job: job, start: job.deadline.addingTimeInterval(1), emissionsGrams: 1, outcome: "z", reconciles: 1)])
        #expect(StrategySummary.summarize([late])[0].deadlineMisses == 1)
    }

    @Test("the static window chosen from a trace covers its lowest-intensity hours of the day")
    func chosenStaticWindow() {
        // Every day: 500 except 13:00-16:00 at 50.
        let day = (0..<24).map { (13..<16).contains($0) ? 50.0 : 500 }
        let trace = hourlyTrace(Array((0..<10).map { _ in day }.joined()))
        #expect(StaticWindowChooser.lowestMean(trace: trace, hours: 3) == .dailyWindow(startSecond: 13 * 3600, endSecond: 16 * 3600))
        #expect(StaticWindowChooser.lowestMean(trace: trace, hours: 6).description.hasPrefix("static window 1"))
    }
}
