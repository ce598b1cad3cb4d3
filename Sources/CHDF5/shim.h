// HDF5 C API. Its type and property-list "constants" are macros over mutable globals that exist
// only after H5open(); Swift does not import them and Swift 6 rejects reading the globals.
// Each is re-exported here once as a static inline accessor.
#include <hdf5.h>

static inline hid_t sbn_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t sbn_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t sbn_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t sbn_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t sbn_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t sbn_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t sbn_H5T_C_S1(void) { return H5T_C_S1; }
static inline hid_t sbn_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t sbn_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t sbn_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline unsigned sbn_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned sbn_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned sbn_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline hsize_t sbn_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
static inline size_t sbn_H5T_VARIABLE(void) { return H5T_VARIABLE; }
