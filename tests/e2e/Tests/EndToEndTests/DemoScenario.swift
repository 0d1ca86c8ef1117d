import EndToEndKit
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension EndToEnd {
    /// `make demo`'s script as a newcomer runs it, in a folder of its own: it starts the four
    /// services, installs everything, shows the table, releases on `green-on`, and `down`
    /// leaves nothing running. Only against devapi (the demo always runs it).
    @Suite("The demo script", .enabled(if: APIServerKind.fromEnvironment() == .devapi))
    struct DemoScenario {
        struct Run {
            var code: Int32
            var output: String
        }

        static func kubectl() -> String? {
            let installed = Repository.path(".tools/bin/kubectl")
            if FileManager.default.isExecutableFile(atPath: installed) { return installed }
            return try? Shell.which("kubectl")
        }

        static func demo(_ command: String, state: String, bin: String, kubectl: String) async throws -> Run {
            let child = try ChildProcess(
                name: "demo-\(command)", executable: "/bin/bash",
                arguments: [Repository.path("scripts/demo/demo.sh"), command],
                environment: [
                    "DEMO_DIR": state, "DEMO_BIN_DIR": bin, "KUBECTL": kubectl, "DEMO_WATCH": "0", "KUBECONFIG": "",
                ],
                logDirectory: state + "-logs")
            let code = try await child.waitForExit(timeout: .seconds(120))
            return Run(code: code, output: child.standardOutput + child.standardError)
        }

        /// The pids the demo recorded, to check that `down` really stopped them.
        static func recordedPIDs(in state: String) -> [pid_t] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
            return files.filter { $0.hasSuffix(".pid") }.compactMap {
                (try? String(contentsOfFile: "\(state)/\($0)", encoding: .utf8)).flatMap {
                    pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }
            }
        }

        @Test(
            "demo up submits the samples and holds the carbon-aware ones; green-on releases them to green-batch; down stops all"
        )
        func demoLifecycle() async throws {
            let kubectl = try #require(Self.kubectl(), "kubectl is missing: make install puts it in .tools/bin")
            let base = Repository.path("tests/e2e/.build/e2e-runs/devapi/demo")
            try? FileManager.default.removeItem(atPath: base)
            let state = base + "/state"
            let bin = base + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            for executable in Repository.Executable.allCases {
                try FileManager.default.createSymbolicLink(
                    atPath: "\(bin)/\(executable.rawValue)", withDestinationPath: Repository.executable(executable))
            }
            var pids: [pid_t] = []
            do {
                let up = try await Self.demo("up", state: state, bin: bin, kubectl: kubectl)
                pids = Self.recordedPIDs(in: state)
                try #require(up.code == 0, "demo up failed:\n\(up.output)")
                #expect(pids.count == 4)
                #expect(up.output.contains("job.batch/job-carbon-aware created"))

                let table = try await Self.demo("watch", state: state, bin: bin, kubectl: kubectl)
                let held = table.output.split(separator: "\n").filter { $0.contains("deferred") }
                #expect(held.count == 2, "want job-carbon-aware and job-carbon-aware-strict held:\n\(table.output)")
                #expect(!table.output.contains("job-plain"), "the table lists carbon-aware Jobs only")

                let green = try await Self.demo("green-on", state: state, bin: bin, kubectl: kubectl)
                #expect(green.code == 0, "\(green.output)")
                let released = try await Eventually.value(
                    "the samples released", timeout: .seconds(30), interval: .seconds(1)
                ) {
                    () async throws -> String? in
                    let status = try await Self.demo("status", state: state, bin: bin, kubectl: kubectl).output
                    let lines = status.split(separator: "\n").filter {
                        $0.contains("released") && $0.contains("green-batch")
                    }
                    return lines.count == 2 ? status : nil
                }
                #expect(released.contains("GREEN"))
                let submitted = try await Self.demo("submit", state: state, bin: bin, kubectl: kubectl)
                #expect(submitted.output.contains("created"), "\(submitted.output)")
            } catch {
                _ = try? await Self.demo("down", state: state, bin: bin, kubectl: kubectl)
                throw error
            }
            let down = try await Self.demo("down", state: state, bin: bin, kubectl: kubectl)
            #expect(down.code == 0, "\(down.output)")
            for pid in pids {
                #expect(
                    kill(pid, 0) != 0 || HarnessTests.isZombie(pid), "process \(pid) is still running after demo down")
            }
        }
    }
}
