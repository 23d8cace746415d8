# A generic SDMX client in R (rsdmx, Debian's r-cran-rsdmx) reads the portal's SDMX REST 2.1 answers
# (SDMX-ML 2.1: rsdmx asks for application/xml) and finds the published dataset in them.
# Usage: Rscript rsdmx_test.R PORTAL_URL DATASET_ID
# Prints "OK ..." lines and exits 0, or stops with the first mismatch (exit 1).
suppressPackageStartupMessages({
  library(rsdmx)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript rsdmx_test.R PORTAL_URL DATASET_ID")
base <- sub("/+$", "", args[[1]])
dsid <- args[[2]]

check <- function(ok, what) {
  if (!isTRUE(ok)) stop(paste("FAILED:", what), call. = FALSE)
  cat("OK", what, "\n")
}

# The dataset JSON (docs/publication.md section 3) the SDMX answers are checked against.
ds <- fromJSON(paste0(base, "/api/v1/datasets/", dsid), simplifyVector = FALSE)
agency <- ds$agency
version <- ds$version
dim_ids <- vapply(ds$dimensions, function(d) d$id, "")
codes_of <- function(i) vapply(ds$dimensions[[i]]$codes, function(c) c$id, "")

# 1. Dataflows.
flows <- as.data.frame(readSDMX(paste0(base, "/rest/dataflow/all/all/latest")))
check(dsid %in% flows$id, paste("dataflow", dsid, "listed among", nrow(flows)))

# 2. The data structure with its code lists.
dsd_url <- paste0(base, "/rest/datastructure/", agency, "/DSD_", dsid, "/", version, "?references=children")
dsd <- readSDMX(dsd_url)
cls <- slot(dsd, "codelists")
check(!is.null(cls), "the data structure carries its code lists")
cl_ids <- vapply(slot(cls, "codelists"), function(cl) slot(cl, "id"), "")
for (i in seq_along(dim_ids)) {
  if (dim_ids[[i]] == "TIME_PERIOD") next
  cl_id <- cl_ids[grepl(paste0("^CL_", dim_ids[[i]]), cl_ids)][1]
  check(!is.na(cl_id), paste("a code list for", dim_ids[[i]]))
  codes <- as.data.frame(cls, codelistId = cl_id)
  check(nrow(codes) == length(codes_of(i)) && setequal(codes$id, codes_of(i)),
        paste(cl_id, "has the", length(codes_of(i)), "codes of", dim_ids[[i]]))
}
dsd1 <- slot(slot(dsd, "datastructures"), "datastructures")[[1]]
check(slot(dsd1, "id") == paste0("DSD_", dsid), paste("data structure", slot(dsd1, "id")))
comps <- as.data.frame(slot(dsd1, "Components"))
comp_ids <- unique(c(as.character(comps$conceptRef), as.character(comps$id)))
check(all(dim_ids %in% comp_ids), paste("the data structure has the dimensions", paste(dim_ids, collapse = ", ")))

# 3. Data: one row per observation, values as in the dataset JSON.
data <- as.data.frame(readSDMX(paste0(base, "/rest/data/", agency, ",", dsid, ",", version, "/all")))
check(nrow(data) == length(ds$observations), paste("data rows", nrow(data), "= observations", length(ds$observations)))
# rsdmx names the time column obsTime (SDMX-ML generic data: <generic:ObsDimension value=...>).
if (!("TIME_PERIOD" %in% names(data)) && "obsTime" %in% names(data)) data$TIME_PERIOD <- data$obsTime
for (d in dim_ids) check(d %in% names(data), paste("column", d))
check("obsValue" %in% names(data), "column obsValue")
values <- suppressWarnings(as.numeric(data$obsValue))
key_of_row <- function(r) paste(vapply(dim_ids, function(d) as.character(data[[d]][r]), ""), collapse = "|")
row_keys <- vapply(seq_len(nrow(data)), key_of_row, "")
checked <- 0
for (o in ds$observations) {
  key <- paste(vapply(seq_along(dim_ids), function(i) codes_of(i)[o$key[[i]] + 1], ""), collapse = "|")
  r <- match(key, row_keys)
  if (is.na(r)) stop(paste("FAILED: no data row for", key), call. = FALSE)
  if (is.null(o$value)) {
    if (!is.na(values[r])) stop(paste("FAILED: suppressed or missing", key, "has a value"), call. = FALSE)
  } else if (abs(values[r] - o$value) > 1e-6 * max(1, abs(o$value))) {
    stop(paste("FAILED:", key, values[r], "!=", o$value), call. = FALSE)
  }
  checked <- checked + 1
}
check(checked == length(ds$observations), paste("all", checked, "values match the dataset JSON"))
if ("OBS_CONF" %in% names(data)) {
  n_c <- sum(vapply(ds$observations, function(o) identical(o$status, "C"), TRUE))
  check(sum(data$OBS_CONF == "C", na.rm = TRUE) == n_c, paste(n_c, "observations marked OBS_CONF = C"))
}
cat("ALL OK\n")
