/*
 * walbuf: a SQLite VFS shim that gathers a transaction's writes to its write-ahead log into large
 * writes.
 *
 * SQLite writes every WAL frame as two pwrite calls (its 24-byte header, then the page). A tag write
 * changes ~8 pages at random places, so a TagResources request cost ~16 system calls, and the commit
 * was a fifth of the event loop's time (perf, 2 vCPUs under KVM, where a system call is dear). This
 * shim keeps the frames of a WAL in a buffer while they are contiguous and hands them to the real file
 * in a few large writes (pieces of WB_MAX_WRITE): at the end of each commit frame (its page written), before anything reads, syncs,
 * sizes, truncates or closes the WAL, when a write is not contiguous, when the buffer is full, and
 * before the database's shared-memory index is changed (xShmBarrier, xShmLock): other connections
 * find frames only through that index, after the commit, so they never look for a frame still held
 * here. A commit's frames therefore reach the operating system before it returns, as without the
 * shim; an error writing them fails the commit (the commit frame's write returns it).
 *
 * Loaded once per process as an extension; it registers itself as the default VFS, wrapping the one
 * that was the default, so every connection opened afterwards goes through it. Files other than WALs
 * pass straight through.
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

#include <stdlib.h>
#include <string.h>

#define WB_FRAME_HEADER 24
/* Written out when it would grow past this (~250 frames): a TagResources batch's commit fits. */
#define WB_MAX_BUFFER (1 << 20)
/* The unix VFS writes at most 0x1ffff bytes per call (seekAndWrite masks the length with it). */
#define WB_MAX_WRITE (1 << 16)

typedef struct WbFile WbFile;
struct WbFile {
  sqlite3_file base;   /* pMethods: wb_io */
  sqlite3_file *real;  /* the wrapped file, allocated right after this struct */
  WbFile *wal;         /* a database file: its WAL, when open (same connection) */
  WbFile *db;          /* a WAL: its database file */
  int isWal;
  unsigned char *buf;  /* a WAL's pending bytes, for offsets [bufStart, bufStart + nBuf) */
  int nBuf;
  int szBuf;
  sqlite3_int64 bufStart;
  int commitHeader;    /* the last write was the header of a commit frame */
  int lostWrite;       /* a WAL: a flush that had no caller to fail (xShmBarrier), reported next */
};

static sqlite3_vfs *wb_real_vfs;
static sqlite3_vfs wb_vfs;
static sqlite3_io_methods wb_io;

static int wb_flush(WbFile *f) {
  int rc = f->lostWrite;
  f->lostWrite = SQLITE_OK;
  if (rc != SQLITE_OK) {
    f->nBuf = 0;
    return rc;
  }
  for (int done = 0; done < f->nBuf && rc == SQLITE_OK; done += WB_MAX_WRITE) {
    int n = f->nBuf - done < WB_MAX_WRITE ? f->nBuf - done : WB_MAX_WRITE;
    rc = f->real->pMethods->xWrite(f->real, f->buf + done, n, f->bufStart + done);
  }
  f->nBuf = 0;
  return rc;
}

/* A WAL's held bytes go out before the real file is asked anything about its contents. */
static int wb_settle(WbFile *f) {
  return f->isWal ? wb_flush(f) : SQLITE_OK;
}

static int wb_flush_wal_of(WbFile *db) {
  return db->wal ? wb_flush(db->wal) : SQLITE_OK;
}

static int wb_close(sqlite3_file *file) {
  WbFile *f = (WbFile *)file;
  int rc = SQLITE_OK;
  if (f->isWal) {
    rc = wb_flush(f);
    if (f->db && f->db->wal == f) f->db->wal = 0;
    sqlite3_free(f->buf);
    f->buf = 0;
  } else if (f->wal) {
    f->wal->db = 0;
  }
  int rc2 = f->real->pMethods->xClose(f->real);
  return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset) {
  WbFile *f = (WbFile *)file;
  int rc = wb_settle(f);
  return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, amount, offset);
}

static int wb_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
  WbFile *f = (WbFile *)file;
  if (!f->isWal) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  int rc;
  /* Not where the buffered bytes end (a frame overwritten in place, the WAL started over): what is
   * held goes first, then this write through the buffer anew. */
  if (f->nBuf > 0 && offset != f->bufStart + f->nBuf) {
    rc = wb_flush(f);
    if (rc != SQLITE_OK) return rc;
  }
  if (f->nBuf + amount > WB_MAX_BUFFER) {
    rc = wb_flush(f);
    if (rc != SQLITE_OK) return rc;
    if (amount > WB_MAX_BUFFER) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  if (f->nBuf + amount > f->szBuf) {
    int size = f->szBuf ? f->szBuf : 65536;
    while (size < f->nBuf + amount) size *= 2;
    unsigned char *grown = sqlite3_realloc(f->buf, size);
    if (!grown) {
      rc = wb_flush(f);
      if (rc != SQLITE_OK) return rc;
      return f->real->pMethods->xWrite(f->real, data, amount, offset);
    }
    f->buf = grown;
    f->szBuf = size;
  }
  if (f->nBuf == 0) f->bufStart = offset;
  memcpy(f->buf + f->nBuf, data, amount);
  f->nBuf += amount;
  /* A frame header: bytes 4-7 hold the database size after a commit, 0 in any other frame. The
   * write after a commit frame's header is its page: the commit's last frame. */
  if (amount == WB_FRAME_HEADER) {
    const unsigned char *h = data;
    f->commitHeader = (h[4] | h[5] | h[6] | h[7]) != 0;
    return SQLITE_OK;
  }
  if (f->commitHeader) {
    f->commitHeader = 0;
    return wb_flush(f);
  }
  return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *file, sqlite3_int64 size) {
  WbFile *f = (WbFile *)file;
  int rc = wb_settle(f);
  return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *file, int flags) {
  WbFile *f = (WbFile *)file;
  int rc = wb_settle(f);
  return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *file, sqlite3_int64 *size) {
  WbFile *f = (WbFile *)file;
  int rc = wb_settle(f);
  return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int wb_lock(sqlite3_file *file, int level) {
  WbFile *f = (WbFile *)file;
  return f->real->pMethods->xLock(f->real, level);
}

static int wb_unlock(sqlite3_file *file, int level) {
  WbFile *f = (WbFile *)file;
  return f->real->pMethods->xUnlock(f->real, level);
}

static int wb_check_reserved_lock(sqlite3_file *file, int *out) {
  WbFile *f = (WbFile *)file;
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wb_file_control(sqlite3_file *file, int op, void *arg) {
  WbFile *f = (WbFile *)file;
  int rc = wb_settle(f);
  return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *file) {
  WbFile *f = (WbFile *)file;
  return f->real->pMethods->xSectorSize(f->real);
}

static int wb_device_characteristics(sqlite3_file *file) {
  WbFile *f = (WbFile *)file;
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int wb_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out) {
  WbFile *f = (WbFile *)file;
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int wb_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
  WbFile *f = (WbFile *)file;
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  int rc = wb_flush_wal_of(f);
  if (rc != SQLITE_OK) return rc;
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *file) {
  WbFile *f = (WbFile *)file;
  /* A commit's frames were written at its commit frame; whatever else is held goes before the index
   * changes. xShmBarrier returns nothing: a failure is kept for the WAL's next call to report. */
  if (f->wal && wb_flush(f->wal) != SQLITE_OK) f->wal->lostWrite = SQLITE_IOERR_WRITE;
  if (f->real->pMethods->iVersion >= 2) f->real->pMethods->xShmBarrier(f->real);
}

static int wb_shm_unmap(sqlite3_file *file, int deleteFlag) {
  WbFile *f = (WbFile *)file;
  if (f->real->pMethods->iVersion < 2) return SQLITE_OK;
  return f->real->pMethods->xShmUnmap(f->real, deleteFlag);
}

static int wb_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
  WbFile *f = (WbFile *)file;
  *out = 0;
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  int rc = wb_settle(f);
  return rc != SQLITE_OK ? rc : f->real->pMethods->xFetch(f->real, offset, amount, out);
}

static int wb_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page) {
  WbFile *f = (WbFile *)file;
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

static int wb_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *outFlags) {
  WbFile *f = (WbFile *)file;
  memset(f, 0, sizeof(*f));
  f->real = (sqlite3_file *)&f[1];
  int rc = wb_real_vfs->xOpen(wb_real_vfs, name, f->real, flags, outFlags);
  /* SQLite closes a file whose xOpen failed only if it has methods: so does the wrapper. */
  f->base.pMethods = f->real->pMethods ? &wb_io : 0;
  if (rc != SQLITE_OK || !f->real->pMethods) return rc;
  if ((flags & SQLITE_OPEN_WAL) && name) {
    /* The WAL's database file, opened by the same connection through this VFS. */
    sqlite3_file *db = sqlite3_database_file_object(name);
    if (db && db->pMethods == &wb_io) {
      f->isWal = 1;
      f->db = (WbFile *)db;
      f->db->wal = f;
    }
  }
  return SQLITE_OK;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int syncDir) {
  return wb_real_vfs->xDelete(wb_real_vfs, name, syncDir);
}
static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
  return wb_real_vfs->xAccess(wb_real_vfs, name, flags, out);
}
static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
  return wb_real_vfs->xFullPathname(wb_real_vfs, name, n, out);
}
static void *wb_dl_open(sqlite3_vfs *vfs, const char *name) {
  return wb_real_vfs->xDlOpen(wb_real_vfs, name);
}
static void wb_dl_error(sqlite3_vfs *vfs, int n, char *out) {
  wb_real_vfs->xDlError(wb_real_vfs, n, out);
}
static void (*wb_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
  return wb_real_vfs->xDlSym(wb_real_vfs, handle, symbol);
}
static void wb_dl_close(sqlite3_vfs *vfs, void *handle) {
  wb_real_vfs->xDlClose(wb_real_vfs, handle);
}
static int wb_randomness(sqlite3_vfs *vfs, int n, char *out) {
  return wb_real_vfs->xRandomness(wb_real_vfs, n, out);
}
static int wb_sleep(sqlite3_vfs *vfs, int micros) {
  return wb_real_vfs->xSleep(wb_real_vfs, micros);
}
static int wb_current_time(sqlite3_vfs *vfs, double *out) {
  return wb_real_vfs->xCurrentTime(wb_real_vfs, out);
}
static int wb_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
  return wb_real_vfs->xGetLastError ? wb_real_vfs->xGetLastError(wb_real_vfs, n, out) : 0;
}
static int wb_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
  return wb_real_vfs->xCurrentTimeInt64(wb_real_vfs, out);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_walbuf_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  (void)db;
  (void)error;
  if (sqlite3_vfs_find("walbuf")) return SQLITE_OK_LOAD_PERMANENTLY;
  sqlite3_vfs *real = sqlite3_vfs_find(0);
  if (!real || real->iVersion < 2) return SQLITE_ERROR;
  wb_real_vfs = real;

  wb_io.iVersion = 3;
  wb_io.xClose = wb_close;
  wb_io.xRead = wb_read;
  wb_io.xWrite = wb_write;
  wb_io.xTruncate = wb_truncate;
  wb_io.xSync = wb_sync;
  wb_io.xFileSize = wb_file_size;
  wb_io.xLock = wb_lock;
  wb_io.xUnlock = wb_unlock;
  wb_io.xCheckReservedLock = wb_check_reserved_lock;
  wb_io.xFileControl = wb_file_control;
  wb_io.xSectorSize = wb_sector_size;
  wb_io.xDeviceCharacteristics = wb_device_characteristics;
  wb_io.xShmMap = wb_shm_map;
  wb_io.xShmLock = wb_shm_lock;
  wb_io.xShmBarrier = wb_shm_barrier;
  wb_io.xShmUnmap = wb_shm_unmap;
  wb_io.xFetch = wb_fetch;
  wb_io.xUnfetch = wb_unfetch;

  wb_vfs.iVersion = 2;
  wb_vfs.szOsFile = (int)sizeof(WbFile) + real->szOsFile;
  wb_vfs.mxPathname = real->mxPathname;
  wb_vfs.zName = "walbuf";
  wb_vfs.xOpen = wb_open;
  wb_vfs.xDelete = wb_delete;
  wb_vfs.xAccess = wb_access;
  wb_vfs.xFullPathname = wb_full_pathname;
  wb_vfs.xDlOpen = wb_dl_open;
  wb_vfs.xDlError = wb_dl_error;
  wb_vfs.xDlSym = wb_dl_sym;
  wb_vfs.xDlClose = wb_dl_close;
  wb_vfs.xRandomness = wb_randomness;
  wb_vfs.xSleep = wb_sleep;
  wb_vfs.xCurrentTime = wb_current_time;
  wb_vfs.xGetLastError = wb_get_last_error;
  wb_vfs.xCurrentTimeInt64 = wb_current_time_int64;
  int rc = sqlite3_vfs_register(&wb_vfs, 1);
  return rc == SQLITE_OK ? SQLITE_OK_LOAD_PERMANENTLY : rc;
}
