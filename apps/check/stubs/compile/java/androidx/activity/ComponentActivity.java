package androidx.activity;

import android.app.Activity;
import androidx.lifecycle.LifecycleOwner;

/** AndroidX Activity: ComponentActivity (an Activity that is a LifecycleOwner). */
public class ComponentActivity extends Activity implements LifecycleOwner { }
