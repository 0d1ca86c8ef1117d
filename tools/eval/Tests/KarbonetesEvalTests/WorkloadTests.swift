import Foundation
import KarbonetesCarbon
import KarbonetesEval
import Testing

@Suite("Workload specs and arrivals")
struct WorkloadTests {
    @Test(
        "specs parse into arrivals, durations and seeds",
        arguments: [
            ("poisson:2/h", WorkloadSpec.Arrivals.poisson(perSecond: 2.0 / 3600), DurationDistribution.fixed(3600), UInt64(1)),
            ("poisson:24/d;duration=30m;seed=7", .poisson(perSecond: 24.0 / 86_400), .fixed(1800), 7),
            ("every:6h;duration=30m..3h", .every(21_600), .uniform(1800, 10_800), 1),
            ("cron:0 2 * * *; duration=2h", .cron(try! CronSchedule(parsing: "0 2 * * *")), .fixed(7200), 1),
        ] as [(String, WorkloadSpec.Arrivals, DurationDistribution, UInt64)])
    func parses(text: String, arrivals: WorkloadSpec.Arrivals, duration: DurationDistribution, seed: UInt64) throws {
        let spec = try WorkloadSpec(parsing: text)
        #expect(spec.arrivals == arrivals)
        #expect(spec.duration == duration)
        #expect(spec.seed == seed)
    }

    @Test(
        "bad specs are refused with the text and what is wrong",
        arguments: [
            ("poisson", "expected KIND:ARGUMENT"), ("poisson:0/h", "rate \"0/h\""), ("poisson:2/week", "rate \"2/week\""),
            ("burst:5", "unknown arrival kind \"burst\""), ("every:0s", "more than zero"), ("every:6x", "unknown unit"),
            ("poisson:1/h;duration=3h..1h", "0 < low <= high"), ("poisson:1/h;seed=-1", "seed \"-1\""),
            ("poisson:1/h;colour=red", "unknown option \"colour\""), ("poisson:1/h;duration", "is not key=value"),
            ("cron:0 2 * *", "has 4 fields"), ("cron:61 * * * *", "minute \"61\" is outside 0-59"), ("cron:*/0 * * * *", "step \"0\""),
        ])
    func refuses(text: String, want: String) {
        #expect {
            try WorkloadSpec(parsing: text)
        } throws: { error in
            "\(error)".contains(want) && "\(error)".contains(text.hasPrefix("cron:") ? "cron schedule" : "workload \"\(text)\"")
        }
    }

    @Test(
        "cron schedules fire at their UTC times, with cron's either-day rule",
        arguments: [
            ("0 2 * * *", "2022-03-01T00:00:00Z", "2022-03-04T00:00:00Z", ["2022-03-01T02:00:00Z", "2022-03-02T02:00:00Z", "2022-03-03T02:00:00Z"]),
            // 2022-03-05 and 06 are a Saturday and a Sunday.
            ("*/30 8 * * 1-5", "2022-03-04T00:00:00Z", "2022-03-08T00:00:00Z",
             ["2022-03-04T08:00:00Z", "2022-03-04T08:30:00Z", "2022-03-07T08:00:00Z", "2022-03-07T08:30:00Z"]),
            // Day 1 of the month OR a Sunday.
            ("0 0 1 * 0", "2022-02-26T00:00:00Z", "2022-03-08T00:00:00Z", ["2022-02-27T00:00:00Z", "2022-03-01T00:00:00Z", "2022-03-06T00:00:00Z"]),
            ("@daily", "2022-12-31T12:00:00Z", "2023-01-02T00:00:01Z", ["2023-01-01T00:00:00Z", "2023-01-02T00:00:00Z"]),
            ("15 10 29 2 *", "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z", ["2024-02-29T10:15:00Z"]),
        ])
    func cronTimes(expression: String, from: String, to: String, want: [String]) throws {
        #expect(try CronSchedule(parsing: expression).times(from: utc(from), to: utc(to)) == want.map(utc))
    }

    @Test("Poisson arrivals are whole seconds, in order, reproducible from the seed, and near the rate")
    func poisson() throws {
        let from = utc("2022-01-01T00:00:00Z"), to = utc("2022-03-01T00:00:00Z")
        let jobs = try WorkloadSpec(parsing: "poisson:2/h;seed=3").jobs(from: from, to: to, maxDelay: 3600)
        let again = try WorkloadSpec(parsing: "poisson:2/h;seed=3").jobs(from: from, to: to, maxDelay: 3600)
        let other = try WorkloadSpec(parsing: "poisson:2/h;seed=4").jobs(from: from, to: to, maxDelay: 3600)
        #expect(jobs == again)
        #expect(jobs != other)
        let expected = 2 * to.timeIntervalSince(from) / 3600
        // 2,832 expected: five standard deviations is about 266.
        #expect(abs(Double(jobs.count) - expected) < 5 * expected.squareRoot())
        #expect(zip(jobs, jobs.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
        #expect(jobs.allSatisfy { $0.arrival >= from && $0.arrival < to && $0.arrival.timeIntervalSince1970.rounded() == $0.arrival.timeIntervalSince1970 })
        #expect(jobs.map(\.index) == Array(jobs.indices))
    }

    @Test("uniform durations stay within their range and use all of it")
    func uniformDurations() throws {
        let jobs = try WorkloadSpec(parsing: "every:1h;duration=30m..3h;seed=9").jobs(from: utc("2022-01-01T00:00:00Z"), to: utc("2022-02-01T00:00:00Z"), maxDelay: 3600)
        #expect(jobs.count == 31 * 24)
        #expect(jobs.allSatisfy { (1800...10_800).contains($0.duration) })
        #expect(jobs.map(\.duration).min()! < 2400)
        #expect(jobs.map(\.duration).max()! > 10_000)
    }
}

@Suite("CronJob-created Jobs")
struct CronJobWorkloadTests {
    @Test("cron workloads replay as CronJob-owned Jobs and still never miss their deadline")
    func cronJobs() throws {
        let jobs = try WorkloadSpec(parsing: "cron:0 */3 * * *;duration=45m").jobs(
            from: utc("2022-06-01T00:00:00Z"), to: utc("2022-06-03T00:00:00Z"), maxDelay: 6 * 3600)
        #expect(jobs.count == 16)
        #expect(jobs.allSatisfy { $0.fromCronJob })
        var generator = SeededGenerator(seed: 4)
        let trace = hourlyTrace((0..<72).map { _ in Double.random(in: 50...400, using: &generator) })
        let settings = EvaluationSettings(
            staticWindow: .dailyWindow(startSecond: 0, endSecond: 3600), threshold: 120, forecastNoise: ForecastNoise(relativeSigma: 0.2, seed: 1))
        for run in Evaluation.run(trace: trace, jobs: jobs, settings: settings) {
            #expect(run.runs.allSatisfy { $0.fault == nil && !$0.missedDeadline && $0.start >= $0.job.arrival }, "\(run.strategy)")
        }
    }
}
