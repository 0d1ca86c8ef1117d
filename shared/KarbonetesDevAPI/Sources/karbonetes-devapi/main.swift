import DevAPIControllers
import DevAPIServer
import DevAPIStore
import Foundation
import KarbonetesCommandLine
import KarbonetesLifecycle
import KarbonetesLogging
import KarbonetesModels

/// The version, kept equal to the package's VERSION file (a test checks it).
let devAPIVersion = "0.1.0"

let listenFlag = Flag.listen(default: "127.0.0.1:6443")
let dataDirFlag = Flag(name: "data-dir", help: "Folder for the data file, the CA, the serving certificate and the token (kept across restarts).", valueName: "dir")
let kubeconfigOutFlag = Flag(name: "kubeconfig-out", help: "Where to write a kubeconfig (CA data, server URL, bearer token) for kubectl and the services.", valueName: "path")
let jobLifecycleFlag = Flag(name: "job-lifecycle", default: "false", help: "Start released Jobs (startTime, active) and complete them after --job-duration.", isBoolean: true)
let jobDurationFlag = Flag(name: "job-duration", default: "10s", help: "How long a Job runs under --job-lifecycle (Go duration).", valueName: "duration")
let cronJobsFlag = Flag(name: "cronjobs", default: "false", help: "Create Jobs from CronJobs on their schedule.", isBoolean: true)
let historyFlag = Flag(name: "watch-history", default: "2000", help: "Changes kept for resuming watches; older resourceVersions get 410 Gone.", valueName: "count")
let faultsFlag = Flag(name: "faults", help: "A JSON file of fault rules to start with ({\"rules\":[…]}, as PUT /devapi/faults takes).", valueName: "path")
let bookmarkFlag = Flag(name: "bookmark-interval", default: "10s", help: "How often watches with allowWatchBookmarks=true get a BOOKMARK (Go duration).", valueName: "duration")

struct Options {
    var server: DevAPIServerConfiguration
    var logLevel: LogLevel
    var jobLifecycle: Bool
    var jobDuration: TimeInterval
    var cronJobs: Bool
}

func duration(_ text: String) throws -> TimeInterval {
    do {
        return try GoDuration(parsing: text).timeInterval
    } catch {
        throw FlagValueReason("\"\(text)\" is not a duration such as 10s or 1m30s")
    }
}

let flags = FlagSet(
    program: "karbonetes-devapi", version: devAPIVersion,
    summary: "A local Kubernetes API server for development and tests (not a production API server): HTTPS with its own CA, bearer-token auth, namespaces, jobs, cronjobs, leases, events, CRDs and their custom resources, mutating webhooks.",
    flags: [listenFlag, dataDirFlag, kubeconfigOutFlag, jobLifecycleFlag, jobDurationFlag, cronJobsFlag, historyFlag, bookmarkFlag, faultsFlag, .logLevel])

let options = flags.parseOrExit { parsed in
    let address = try parsed.hostPort(listenFlag)
    let bookmark = try parsed.value(bookmarkFlag, duration)
    var faults = FaultConfiguration()
    if parsed.string(faultsFlag) != nil {
        faults = try parsed.value(faultsFlag) { path in
            guard let data = FileManager.default.contents(atPath: path) else { throw FlagValueReason("cannot read \(path)") }
            do {
                return try KubernetesJSON.decoder.decode(FaultConfiguration.self, from: data)
            } catch {
                throw FlagValueReason("\(path) is not a fault configuration: \(error)")
            }
        }
    }
    return Options(
        server: DevAPIServerConfiguration(
            host: address.host, port: address.port, dataDirectory: try parsed.requiredString(dataDirFlag),
            kubeconfigPath: parsed.string(kubeconfigOutFlag), historyCapacity: try parsed.int(historyFlag),
            bookmarkInterval: .milliseconds(Int(bookmark * 1_000)), faults: faults),
        logLevel: try parsed.logLevel(), jobLifecycle: try parsed.bool(jobLifecycleFlag),
        jobDuration: try parsed.value(jobDurationFlag, duration), cronJobs: try parsed.bool(cronJobsFlag))
}

let logger = Logger(label: "karbonetes-devapi", level: options.logLevel)
do {
    let server = try DevAPIServer(configuration: options.server, logger: logger) { store, admitCreate in
        var controllers: [any Service] = []
        if options.jobLifecycle {
            controllers.append(JobLifecycleController(store: store, duration: options.jobDuration, logger: logger.with(["controller": "job-lifecycle"])))
        }
        if options.cronJobs { controllers.append(CronJobController(store: store, logger: logger.with(["controller": "cronjob"]), admit: admitCreate)) }
        return controllers
    }
    FileHandle.standardOutput.write(Data("karbonetes-devapi ready on \(server.url)\n".utf8))
    await ServiceMain.run(ServiceGroup(services: [server], logger: logger), logger: logger)
} catch {
    logger.critical("karbonetes-devapi could not start", metadata: ["error": "\(error)"])
    exit(1)
}
