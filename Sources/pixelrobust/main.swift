import Glibc
import PixelRobustnessCLI

// A closed pipe (`pixelrobust … | head`) must end in a failed write, not in SIGPIPE.
signal(SIGPIPE, SIG_IGN)
BLASKernelSelection.reexecuteWithFastKernelsIfNeeded()
PixelRobustCommand.mainReportingOutputFailures()
